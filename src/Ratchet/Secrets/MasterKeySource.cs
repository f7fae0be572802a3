namespace Ratchet.Secrets;

/// <summary>
/// Where the master keys come from: keys given directly (the <c>RATCHET_MASTER_KEY</c> variable: one key, or several
/// separated by commas, the current one first), else a key file (<c>RATCHET_MASTER_KEY_FILE</c>, default
/// <see cref="DefaultKeyFile"/>) created on first use.
/// </summary>
public sealed record MasterKeySource
{
    /// <summary>The variable holding the keys themselves.</summary>
    public const string KeyVariable = "RATCHET_MASTER_KEY";

    /// <summary>The variable naming the key file.</summary>
    public const string KeyFileVariable = "RATCHET_MASTER_KEY_FILE";

    /// <summary>Keys as text (base64 or hex, comma-separated, current first); when set, no key file is used.</summary>
    public string? Keys { get; init; }

    /// <summary>The key file used when <see cref="Keys"/> is not set. Default <see cref="DefaultKeyFile"/>.</summary>
    public string KeyFile { get; init; } = DefaultKeyFile();

    /// <summary>Whether the keys come from <see cref="Keys"/> (then rotation is the caller's job) rather than a file.</summary>
    public bool IsDirect => !string.IsNullOrWhiteSpace(Keys);

    /// <summary>The source the process's environment describes.</summary>
    public static MasterKeySource FromEnvironment() => new()
    {
        Keys = Environment.GetEnvironmentVariable(KeyVariable),
        KeyFile = Environment.GetEnvironmentVariable(KeyFileVariable) is { Length: > 0 } file ? Path.GetFullPath(file) : DefaultKeyFile(),
    };

    /// <summary><c>$XDG_CONFIG_HOME/ratchet/master.key</c>, else <c>~/.config/ratchet/master.key</c> (on Windows under %APPDATA%).</summary>
    public static string DefaultKeyFile()
    {
        var config = Environment.GetEnvironmentVariable("XDG_CONFIG_HOME") is { Length: > 0 } xdg
            ? xdg
            : OperatingSystem.IsWindows()
                ? Environment.GetFolderPath(Environment.SpecialFolder.ApplicationData)
                : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".config");
        return Path.Combine(config, "ratchet", "master.key");
    }

    /// <summary>Loads the keys, to decrypt: a missing key file is an error (a new key could not read anything).</summary>
    /// <exception cref="MasterKeyUnavailableException">The keys or the key file cannot be used, or there is no key file.</exception>
    public MasterKeyRing Load()
    {
        if (IsDirect)
        {
            return MasterKeyRing.Parse(Keys!, KeyVariable);
        }

        return File.Exists(KeyFile)
            ? MasterKeyFile.Load(KeyFile)
            : throw new MasterKeyUnavailableException(
                $"There is no master key: {KeyVariable} is not set and the key file '{KeyFile}' does not exist. Set {KeyVariable} or {KeyFileVariable} to the key the secrets were written with.");
    }

    /// <summary>Loads the keys, to encrypt: a missing key file is created with a new random key.</summary>
    /// <exception cref="MasterKeyUnavailableException">The keys or the key file cannot be used.</exception>
    public MasterKeyRing LoadOrCreate() =>
        IsDirect ? MasterKeyRing.Parse(Keys!, KeyVariable) : MasterKeyFile.LoadOrCreate(KeyFile);
}
