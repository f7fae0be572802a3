namespace Ratchet.Storage;

/// <summary>
/// The password in a store URI (<c>postgres://user:password@host/db</c>, <c>redis://:password@host</c>) or in a
/// key-value connection string (<c>Host=...;Password=...</c>, or <c>Pwd=</c>): to mask it wherever it could be
/// recorded, and to hand a URI on without it. The rules are textual, so they hold for every store scheme.
/// </summary>
internal static partial class StoreUri
{
    private static readonly string[] PasswordKeys = ["password", "pwd"];

    /// <summary>
    /// The password in <paramref name="uri"/>, as written (percent-encoded, or quoted in a connection string) and, when
    /// different, decoded; empty when it holds none.
    /// </summary>
    public static IReadOnlyList<string> Passwords(string uri)
    {
        ArgumentNullException.ThrowIfNull(uri);
        if (Credentials(uri) is { } credentials)
        {
            return credentials.Password is { Length: > 0 } written ? Forms(written, Unescape(written)) : [];
        }

        var passwords = new List<string>();
        foreach (var entry in Entries(uri).Where(e => e.IsPassword && e.Value.Length > 0))
        {
            passwords.AddRange(Forms(entry.Written, entry.Value));
        }

        return passwords;
    }

    /// <summary><paramref name="uri"/> without its password (the user name, host and everything else kept); unchanged when it holds none.</summary>
    public static string WithoutPassword(string uri)
    {
        ArgumentNullException.ThrowIfNull(uri);
        if (Credentials(uri) is { } credentials)
        {
            if (credentials.Password is null)
            {
                return uri;
            }

            var user = credentials.User is { Length: > 0 } name ? name + "@" : "";
            return uri[..credentials.Start] + user + uri[credentials.End..];
        }

        var entries = Entries(uri);
        return entries.Any(e => e.IsPassword) ? string.Join(';', entries.Where(e => !e.IsPassword).Select(e => e.Text)) : uri;
    }

    private static string[] Forms(string written, string value) => written == value ? [written] : [written, value];

    private static string Unescape(string text)
    {
        try
        {
            return Uri.UnescapeDataString(text);
        }
        catch (UriFormatException)
        {
            return text;
        }
    }

    /// <summary>
    /// The user-info of a <c>scheme://user:password@host</c> URI: <c>Start</c> and <c>End</c> span it
    /// with its <c>@</c>. Null when the text is not such a URI or names no user-info.
    /// </summary>
    private static UserInfo? Credentials(string uri)
    {
        var scheme = uri.IndexOf("://", StringComparison.Ordinal);
        if (scheme <= 0)
        {
            return null;
        }

        // The user-info ends at the authority's last '@' (a password cannot hold '/', '?' or '#' unencoded).
        var start = scheme + 3;
        var authorityEnd = uri.IndexOfAny(['/', '?', '#'], start);
        var at = uri.LastIndexOf('@', (authorityEnd < 0 ? uri.Length : authorityEnd) - 1);
        if (at < start)
        {
            return new UserInfo(start, start, null, null);
        }

        var info = uri[start..at];
        var colon = info.IndexOf(':', StringComparison.Ordinal);
        if (colon >= 0)
        {
            return new UserInfo(start, at + 1, info[..colon], info[(colon + 1)..]);
        }

        // Redis reads a lone user-info as the password (redis://password@host); for others it is the user.
        var isRedis = uri.StartsWith("redis", StringComparison.OrdinalIgnoreCase) && scheme <= "rediss".Length;
        return isRedis ? new UserInfo(start, at + 1, null, info) : new UserInfo(start, at + 1, info, null);
    }

    /// <summary>The entries of a <c>key=value;...</c> connection string, quoted values (<c>'a;b'</c>, <c>"a;b"</c>, doubled quotes inside) kept whole.</summary>
    private static List<Entry> Entries(string text)
    {
        var entries = new List<Entry>();
        var i = 0;
        while (i < text.Length)
        {
            var start = i;
            var equals = -1;
            var valueStart = -1;
            var quote = '\0';
            var closed = false;
            var value = new System.Text.StringBuilder();
            for (; i < text.Length; i++)
            {
                var c = text[i];
                if (quote != '\0')
                {
                    if (c != quote)
                    {
                        value.Append(c);
                    }
                    else if (i + 1 < text.Length && text[i + 1] == quote)
                    {
                        value.Append(c);
                        i++;
                    }
                    else
                    {
                        quote = '\0';
                        closed = true;
                    }
                }
                else if (c == ';')
                {
                    break;
                }
                else if (closed)
                {
                    // After a closing quote only spaces may come before the ';'.
                    continue;
                }
                else if (equals < 0 && c == '=')
                {
                    equals = i;
                }
                else if (equals >= 0 && valueStart < 0 && !char.IsWhiteSpace(c))
                {
                    valueStart = i;
                    if (c is '\'' or '"')
                    {
                        quote = c;
                    }
                    else
                    {
                        value.Append(c);
                    }
                }
                else if (valueStart >= 0)
                {
                    value.Append(c);
                }
            }

            var entryText = text[start..i];
            if (entryText.Trim().Length > 0)
            {
                var key = equals < 0 ? "" : text[start..equals].Trim();
                var written = valueStart < 0 ? "" : text[valueStart..i].Trim();
                var isQuoted = written.Length > 0 && written[0] is '\'' or '"';
                entries.Add(new Entry(entryText, PasswordKeys.Contains(key, StringComparer.OrdinalIgnoreCase), written, isQuoted ? value.ToString() : value.ToString().Trim()));
            }

            i++;
        }

        return entries;
    }

    private sealed record UserInfo(int Start, int End, string? User, string? Password);

    /// <param name="Text">The entry as written, for rebuilding the string without the password.</param>
    /// <param name="IsPassword">Whether its key is <c>Password</c> or <c>Pwd</c>.</param>
    /// <param name="Written">The value as written (quotes included).</param>
    /// <param name="Value">The value as the driver reads it.</param>
    private sealed record Entry(string Text, bool IsPassword, string Written, string Value);
}
