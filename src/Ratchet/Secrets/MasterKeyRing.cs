namespace Ratchet.Secrets;

/// <summary>
/// The master keys in use: the <see cref="Current"/> key encrypts; it and any retired keys decrypt (a value names its
/// key by id). Retired keys let data written before a rotation (another store sharing the key file, an old export) be
/// read until it is rotated too.
/// </summary>
public sealed class MasterKeyRing
{
    /// <summary>A ring of <paramref name="keys"/>: the first is current, the rest retired.</summary>
    /// <param name="keys">At least one key.</param>
    /// <param name="source">Where the keys came from, for messages: <c>RATCHET_MASTER_KEY</c> or the key file's path.</param>
    public MasterKeyRing(IReadOnlyList<MasterKey> keys, string source)
    {
        ArgumentNullException.ThrowIfNull(keys);
        ArgumentException.ThrowIfNullOrEmpty(source);
        if (keys.Count == 0)
        {
            throw new ArgumentException("A master key ring needs at least one key.", nameof(keys));
        }

        Keys = keys.DistinctBy(k => k.Id).ToArray();
        Source = source;
    }

    /// <summary>The key new secrets are encrypted under.</summary>
    public MasterKey Current => Keys[0];

    /// <summary>Every key, the current one first.</summary>
    public IReadOnlyList<MasterKey> Keys { get; }

    /// <summary>Where the keys came from, for messages.</summary>
    public string Source { get; }

    /// <summary>The key with this id, or null.</summary>
    public MasterKey? Find(string keyId) => Keys.FirstOrDefault(k => k.Id == keyId);

    /// <summary>
    /// Parses keys separated by commas or new lines (lines starting with <c>#</c> are comments), the current key first.
    /// </summary>
    /// <exception cref="MasterKeyUnavailableException">No key, or one that is not a 32-byte key.</exception>
    public static MasterKeyRing Parse(string text, string source)
    {
        ArgumentNullException.ThrowIfNull(text);
        var keys = text.Split('\n')
            .Select(line => line.Trim())
            .Where(line => line.Length > 0 && !line.StartsWith('#'))
            .SelectMany(line => line.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            .Select(part => MasterKey.Parse(part, source))
            .ToArray();
        return keys.Length > 0
            ? new MasterKeyRing(keys, source)
            : throw new MasterKeyUnavailableException($"{source} holds no master key.") { NeedsNewKey = true };
    }

    /// <summary>The same ring with <paramref name="key"/> as the current key and the present keys retired.</summary>
    public MasterKeyRing Prepend(MasterKey key) => new([key, .. Keys], Source);

    /// <summary>The ring with only its current key.</summary>
    public MasterKeyRing WithoutRetired() => new([Current], Source);
}
