using System.Text;

namespace Ratchet.Secrets;

/// <summary>
/// A key file: the master keys, one base64 key per line, the current key first (retired keys after it). Created on
/// first use with mode 0600 in a 0700 folder; a key file that its group or others may read is refused.
/// </summary>
public static class MasterKeyFile
{
    private const UnixFileMode OwnerOnly = UnixFileMode.UserRead | UnixFileMode.UserWrite;
    private const UnixFileMode NotOwner =
        UnixFileMode.GroupRead | UnixFileMode.GroupWrite | UnixFileMode.GroupExecute |
        UnixFileMode.OtherRead | UnixFileMode.OtherWrite | UnixFileMode.OtherExecute;

    private const string Header =
        "# Ratchet master keys (AES-256, base64). The first key encrypts; the others are retired keys kept to read data\n" +
        "# written under them. Keep this file private (mode 0600) and backed up: without it, stored API keys cannot be read.\n";

    /// <summary>Reads the key file at <paramref name="path"/>.</summary>
    /// <exception cref="MasterKeyUnavailableException">Missing, readable by group or others, or not a key file.</exception>
    public static MasterKeyRing Load(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        if (!File.Exists(path))
        {
            throw new MasterKeyUnavailableException($"The master key file '{path}' does not exist.");
        }

        if (!OperatingSystem.IsWindows())
        {
            var mode = File.GetUnixFileMode(path);
            if ((mode & NotOwner) != 0)
            {
                throw new MasterKeyUnavailableException(
                    $"The master key file '{path}' can be read or written by other users (mode {Octal(mode)}); it must be private to its owner. Run `chmod 600 '{path}'` and check that no one else has copied it.");
            }
        }

        return MasterKeyRing.Parse(File.ReadAllText(path, Encoding.UTF8), $"key file '{path}'");
    }

    /// <summary>Reads the key file, or creates it with a new random key (mode 0600) if it does not exist.</summary>
    /// <exception cref="MasterKeyUnavailableException">It exists but cannot be used.</exception>
    public static MasterKeyRing LoadOrCreate(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        if (!File.Exists(path))
        {
            // Written whole beside it, then moved into place without overwriting: a crash never leaves an empty key
            // file, and when two processes start at once, one creates the key and the other reads it.
            var temporary = path + ".new-" + Environment.ProcessId;
            EnsureDirectory(path);
            try
            {
                File.Delete(temporary);
                WriteNew(temporary, new MasterKeyRing([MasterKey.Generate()], $"key file '{path}'"));
                File.Move(temporary, path, overwrite: false);
            }
            catch (IOException) when (File.Exists(path))
            {
                // Another process created it first: use that key.
            }
            finally
            {
                File.Delete(temporary);
            }
        }

        return Load(path);
    }

    /// <summary>
    /// Replaces the key file with <paramref name="keys"/>, atomically: a private temporary file beside it, flushed to
    /// disk, then renamed over it. A crash leaves the old file or the new one, never a torn one.
    /// </summary>
    public static void Save(string path, MasterKeyRing keys)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        ArgumentNullException.ThrowIfNull(keys);
        var temporary = path + ".tmp-" + Environment.ProcessId;
        EnsureDirectory(path);
        File.Delete(temporary);
        try
        {
            WriteNew(temporary, keys);
            File.Move(temporary, path, overwrite: true);
        }
        finally
        {
            File.Delete(temporary);
        }
    }

    private static void WriteNew(string path, MasterKeyRing keys)
    {
        EnsureDirectory(path);
        var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write, Share = FileShare.None };
        if (!OperatingSystem.IsWindows())
        {
            // Set at creation, so the key is never readable by others, not even for an instant.
            options.UnixCreateMode = OwnerOnly;
        }

        using var stream = new FileStream(path, options);
        var text = Header + string.Join('\n', keys.Keys.Select(k => k.ToBase64())) + "\n";
        stream.Write(Encoding.UTF8.GetBytes(text));
        stream.Flush(flushToDisk: true);
    }

    private static void EnsureDirectory(string path)
    {
        var directory = Path.GetDirectoryName(Path.GetFullPath(path))!;
        if (!Directory.Exists(directory))
        {
            if (OperatingSystem.IsWindows())
            {
                Directory.CreateDirectory(directory);
            }
            else
            {
                Directory.CreateDirectory(directory, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
            }
        }
    }

    private static string Octal(UnixFileMode mode) => "0" + Convert.ToString((int)mode, 8);
}
