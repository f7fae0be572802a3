namespace Ratchet.Secrets;

/// <summary>
/// The base of the errors about encrypted secrets: the master key cannot be had, is not the one the data was written
/// under, or the data is damaged. The CLI maps all of them to one exit code.
/// </summary>
public abstract class SecretException : RatchetException
{
    /// <summary>Creates the exception.</summary>
    protected SecretException(string message, Exception? innerException = null)
        : base(message, innerException)
    {
    }
}

/// <summary>The master key cannot be loaded: malformed, missing, or its key file is not private to its owner.</summary>
public sealed class MasterKeyUnavailableException(string message, Exception? innerException = null)
    : SecretException(message, innerException)
{
    /// <summary>Whether a new key is the way out (none given, or not a key), rather than a file to fix or a variable to set.</summary>
    public bool NeedsNewKey { get; init; }

    /// <inheritdoc />
    public override string ErrorCode => "master-key-unavailable";
}

/// <summary>A secret was encrypted under a master key that is not among the keys in use.</summary>
public sealed class MasterKeyMismatchException(string what, string keyId, string currentKeyId, string source)
    : SecretException(
        $"{Capitalize(what)} was encrypted under master key {keyId}, but the master key in use ({source}) is {currentKeyId} and no retired key " +
        $"there matches. Use the master key it was written with (set RATCHET_MASTER_KEY, or RATCHET_MASTER_KEY_FILE to its key file), or store the secret again under this key.")
{
    /// <summary>The id of the key the secret was encrypted under.</summary>
    public string KeyId { get; } = keyId;

    /// <summary>The id of the current master key.</summary>
    public string CurrentKeyId { get; } = currentKeyId;

    /// <inheritdoc />
    public override string ErrorCode => "master-key-mismatch";

    private static string Capitalize(string text) => text.Length == 0 ? text : char.ToUpperInvariant(text[0]) + text[1..];
}

/// <summary>A secret's ciphertext is malformed or fails authentication under the right key: it was altered or damaged.</summary>
public sealed class SecretCorruptException(string what, string reason, Exception? innerException = null)
    : SecretException($"The encrypted value of {what} cannot be read: {reason}. It was altered or damaged; store the secret again.", innerException)
{
    /// <inheritdoc />
    public override string ErrorCode => "secret-corrupt";
}
