using System.Security.Cryptography;
using System.Text;

namespace Ratchet.Files;

/// <summary>
/// Turns workflow ids, namespaces, keys and checkpoint names into file names that are safe on every file system.
/// </summary>
/// <remarks>
/// ASCII lower-case letters, digits, '-' and '_' stay as they are; an upper-case ASCII letter becomes '^' and the
/// letter in lower case (so that names differing only in case stay apart on case-insensitive file systems); every
/// other character, '.' included, becomes '%' and the upper-case hex of each of its UTF-8 bytes. A name whose encoding
/// would be longer than 120 characters is cut to 80 encoded characters, then '~' and the first 32 hex digits of the
/// SHA-256 of the name's UTF-8 bytes. A name Windows reserves (<c>con</c>, <c>nul</c>, <c>com1</c>…) has its first
/// letter percent-encoded (<c>%63on</c>). Names are never decoded from file names: every file holds the record's own id,
/// namespace, key or name, which is what the store reads back.
/// </remarks>
internal static class FileNames
{
    private const int MaxEncodedLength = 120;

    public static string Encode(string name)
    {
        var builder = new StringBuilder(name.Length + 8);
        Span<byte> bytes = stackalloc byte[4];
        for (var i = 0; i < name.Length; i++)
        {
            var c = name[i];
            if (char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c) || c is '-' or '_')
            {
                builder.Append(c);
            }
            else if (char.IsAsciiLetterUpper(c))
            {
                builder.Append('^').Append(char.ToLowerInvariant(c));
            }
            else
            {
                var length = char.IsHighSurrogate(c) && i + 1 < name.Length && char.IsLowSurrogate(name[i + 1])
                    ? Encoding.UTF8.GetBytes(name.AsSpan(i++, 2), bytes)
                    : Encoding.UTF8.GetBytes(name.AsSpan(i, 1), bytes);
                foreach (var b in bytes[..length])
                {
                    builder.Append('%').Append(b.ToString("X2", System.Globalization.CultureInfo.InvariantCulture));
                }
            }
        }

        // Windows refuses these names whatever follows them: escape their first letter.
        if (IsReservedOnWindows(builder))
        {
            builder.Remove(0, 1).Insert(0, "%" + ((int)name[0]).ToString("X2", System.Globalization.CultureInfo.InvariantCulture));
        }

        if (builder.Length <= MaxEncodedLength)
        {
            return builder.ToString();
        }

        var hash = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(name)))[..32];
        return builder.ToString(0, 80) + "~" + hash;
    }

    private static bool IsReservedOnWindows(StringBuilder encoded)
    {
        var text = encoded.ToString();
        return text is "con" or "prn" or "aux" or "nul" ||
            (text.Length == 4 && (text.StartsWith("com", StringComparison.Ordinal) || text.StartsWith("lpt", StringComparison.Ordinal)) && char.IsAsciiDigit(text[3]));
    }
}
