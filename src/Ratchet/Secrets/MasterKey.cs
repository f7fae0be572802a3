using System.Globalization;
using System.Security.Cryptography;

namespace Ratchet.Secrets;

/// <summary>
/// A 256-bit AES key that encrypts secrets at rest, with a short public <see cref="Id"/> (a hash of the key) that
/// encrypted values carry, so that a value read under another key is reported as such rather than as damage.
/// </summary>
public sealed class MasterKey
{
    /// <summary>The key's length in bytes.</summary>
    public const int Length = 32;

    private readonly byte[] _key;

    private MasterKey(byte[] key)
    {
        _key = key;

        // A hash, not the key's bytes: the id is printed in messages and stored beside every ciphertext.
        var hash = SHA256.HashData([.. "ratchet-master-key-id:"u8, .. key]);
        Id = Convert.ToHexStringLower(hash.AsSpan(0, 6));
    }

    /// <summary>A short, public identifier of the key (12 hex digits), safe to print.</summary>
    public string Id { get; }

    /// <summary>The key's bytes, for the cipher.</summary>
    internal ReadOnlySpan<byte> Bytes => _key;

    /// <summary>A new random key.</summary>
    public static MasterKey Generate() => new(RandomNumberGenerator.GetBytes(Length));

    /// <summary>A key from its 32 bytes.</summary>
    /// <exception cref="ArgumentException">Not 32 bytes.</exception>
    public static MasterKey FromBytes(ReadOnlySpan<byte> key) =>
        key.Length == Length
            ? new MasterKey(key.ToArray())
            : throw new ArgumentException($"A master key is {Length} bytes; got {key.Length}.", nameof(key));

    /// <summary>Parses a key written as base64 (44 characters) or hex (64 digits).</summary>
    /// <param name="text">The key's text.</param>
    /// <param name="source">Where it came from, for the message (never the key itself).</param>
    /// <exception cref="MasterKeyUnavailableException">It is neither, or not 32 bytes.</exception>
    public static MasterKey Parse(string text, string source)
    {
        ArgumentNullException.ThrowIfNull(text);
        var trimmed = text.Trim();
        if (trimmed.Length == Length * 2 && trimmed.All(char.IsAsciiHexDigit))
        {
            return new MasterKey(Convert.FromHexString(trimmed));
        }

        var buffer = new byte[trimmed.Length];
        if (Convert.TryFromBase64String(trimmed, buffer, out var written) && written == Length)
        {
            return new MasterKey(buffer[..Length]);
        }

        throw new MasterKeyUnavailableException(
            $"The master key from {source} is not a 32-byte key in base64 (44 characters) or hex (64 digits) " +
            $"(it is {trimmed.Length.ToString(CultureInfo.InvariantCulture)} characters long).")
        {
            NeedsNewKey = true,
        };
    }

    /// <summary>The key in base64, to write to a key file or an environment variable. Treat it as a secret.</summary>
    public string ToBase64() => Convert.ToBase64String(_key);

    /// <inheritdoc />
    public override string ToString() => $"master key {Id}";
}
