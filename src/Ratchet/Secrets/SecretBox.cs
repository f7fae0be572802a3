using System.Security.Cryptography;
using System.Text;

namespace Ratchet.Secrets;

/// <summary>
/// Encrypts short secrets (API keys) with AES-256-GCM under a master key, into a text envelope
/// <c>v1:KEYID:NONCE:CIPHERTEXT</c> (base64; the ciphertext ends with the 16-byte tag). The caller's
/// <c>associatedData</c> (e.g. the provider's name) is authenticated, so a ciphertext copied to another record fails.
/// </summary>
internal static class SecretBox
{
    /// <summary>The envelope's format marker.</summary>
    public const string FormatVersion = "v1";

    private const int NonceSize = 12;
    private const int TagSize = 16;

    /// <summary>Encrypts <paramref name="plaintext"/> under <paramref name="key"/>; a new random nonce each time.</summary>
    public static string Encrypt(MasterKey key, string plaintext, string associatedData)
    {
        ArgumentNullException.ThrowIfNull(key);
        ArgumentNullException.ThrowIfNull(plaintext);
        ArgumentNullException.ThrowIfNull(associatedData);
        var nonce = RandomNumberGenerator.GetBytes(NonceSize);
        var input = Encoding.UTF8.GetBytes(plaintext);
        var output = new byte[input.Length + TagSize];
        using (var aes = new AesGcm(key.Bytes, TagSize))
        {
            aes.Encrypt(nonce, input, output.AsSpan(0, input.Length), output.AsSpan(input.Length), Encoding.UTF8.GetBytes(associatedData));
        }

        CryptographicOperations.ZeroMemory(input);
        return $"{FormatVersion}:{key.Id}:{Convert.ToBase64String(nonce)}:{Convert.ToBase64String(output)}";
    }

    /// <summary>Decrypts an envelope with the key of <paramref name="keys"/> it names.</summary>
    /// <param name="keys">The master keys in use.</param>
    /// <param name="envelope">What <see cref="Encrypt"/> returned.</param>
    /// <param name="associatedData">The same associated data it was encrypted with.</param>
    /// <param name="what">What the secret is, for messages, e.g. <c>the API key of provider 'openai'</c>.</param>
    /// <exception cref="MasterKeyMismatchException">It was encrypted under a key the ring does not hold.</exception>
    /// <exception cref="SecretCorruptException">Malformed, or altered (authentication failed).</exception>
    public static string Decrypt(MasterKeyRing keys, string envelope, string associatedData, string what)
    {
        ArgumentNullException.ThrowIfNull(keys);
        ArgumentNullException.ThrowIfNull(envelope);
        ArgumentNullException.ThrowIfNull(associatedData);
        var (keyId, nonce, sealedBytes) = Open(envelope, what);
        var key = keys.Find(keyId) ?? throw new MasterKeyMismatchException(what, keyId, keys.Current.Id, keys.Source);
        var plaintext = new byte[sealedBytes.Length - TagSize];
        try
        {
            using var aes = new AesGcm(key.Bytes, TagSize);
            aes.Decrypt(nonce, sealedBytes.AsSpan(0, plaintext.Length), sealedBytes.AsSpan(plaintext.Length), plaintext, Encoding.UTF8.GetBytes(associatedData));
            return Encoding.UTF8.GetString(plaintext);
        }
        catch (AuthenticationTagMismatchException ex)
        {
            throw new SecretCorruptException(what, "it fails authentication under the master key it names", ex);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(plaintext);
        }
    }

    /// <summary>The id of the master key an envelope was encrypted under, or null if it is not an envelope.</summary>
    public static string? KeyIdOf(string envelope)
    {
        ArgumentNullException.ThrowIfNull(envelope);
        var parts = envelope.Split(':');
        return parts.Length == 4 && parts[0] == FormatVersion ? parts[1] : null;
    }

    private static (string KeyId, byte[] Nonce, byte[] Sealed) Open(string envelope, string what)
    {
        var parts = envelope.Split(':');
        if (parts.Length != 4 || parts[0] != FormatVersion)
        {
            throw new SecretCorruptException(what, $"it is not a '{FormatVersion}:KEYID:NONCE:CIPHERTEXT' envelope");
        }

        try
        {
            var nonce = Convert.FromBase64String(parts[2]);
            var sealedBytes = Convert.FromBase64String(parts[3]);
            if (nonce.Length != NonceSize || sealedBytes.Length < TagSize)
            {
                throw new SecretCorruptException(what, "its nonce or ciphertext has the wrong length");
            }

            return (parts[1], nonce, sealedBytes);
        }
        catch (FormatException)
        {
            throw new SecretCorruptException(what, "its nonce or ciphertext is not base64");
        }
    }
}
