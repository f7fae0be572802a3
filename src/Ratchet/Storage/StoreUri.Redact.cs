using System.Text.RegularExpressions;

namespace Ratchet.Storage;

internal static partial class StoreUri
{
    /// <summary>
    /// <paramref name="uri"/> with its password shown as <c>***</c>, for messages: <c>postgres://user:***@host/db</c>, or
    /// <c>Password=***</c> in a connection string. Unlike <see cref="WithoutPassword"/>, it shows that there was one.
    /// </summary>
    public static string Redact(string uri)
    {
        ArgumentNullException.ThrowIfNull(uri);
        if (!uri.Contains("://", StringComparison.Ordinal))
        {
            // A connection string: Password=...; (or Pwd=) up to the next ';'.
            return ConnectionStringPassword().Replace(uri, "$1=***");
        }

        var at = uri.IndexOf('@', StringComparison.Ordinal);
        var scheme = uri.IndexOf("://", StringComparison.Ordinal);
        if (at < 0 || scheme < 0 || at < scheme)
        {
            return uri;
        }

        var credentials = uri[(scheme + 3)..at];
        var colon = credentials.IndexOf(':', StringComparison.Ordinal);
        return colon < 0 ? uri : uri[..(scheme + 3)] + credentials[..colon] + ":***" + uri[at..];
    }

    [GeneratedRegex("(?i)(password|pwd)\\s*=[^;]*")]
    private static partial Regex ConnectionStringPassword();
}
