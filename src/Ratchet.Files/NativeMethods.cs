using System.Runtime.InteropServices;

namespace Ratchet.Files;

/// <summary>
/// The libc calls .NET does not expose: fsync of a directory, which makes a rename in it durable, and a mkdir that
/// makes one level only (Directory.CreateDirectory makes every missing parent, the store's root included).
/// </summary>
internal static partial class NativeMethods
{
    private const int AlreadyExists = 17;
    private const int NoSuchEntry = 2;

    [LibraryImport("libc", EntryPoint = "mkdir", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int MkDir(string path, uint mode);

    [LibraryImport("libc", EntryPoint = "open", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int Open(string path, int flags);

    [LibraryImport("libc", EntryPoint = "fsync", SetLastError = true)]
    private static partial int Fsync(int fd);

    [LibraryImport("libc", EntryPoint = "close", SetLastError = true)]
    private static partial int Close(int fd);

    /// <summary>Flushes a directory's entries to disk; a no-op on Windows, where a directory cannot be opened this way.</summary>
    public static void FsyncDirectory(string directory)
    {
        if (OperatingSystem.IsWindows())
        {
            return;
        }

        var fd = Open(directory, 0);
        if (fd < 0)
        {
            throw new IOException($"Could not open the directory '{directory}' to fsync it (errno {Marshal.GetLastPInvokeError()}).");
        }

        try
        {
            if (Fsync(fd) != 0)
            {
                throw new IOException($"Could not fsync the directory '{directory}' (errno {Marshal.GetLastPInvokeError()}).");
            }
        }
        finally
        {
            _ = Close(fd);
        }
    }

    /// <summary>Makes <paramref name="directory"/> in a parent that must exist; an existing one is fine.</summary>
    /// <exception cref="DirectoryNotFoundException">The parent does not exist.</exception>
    public static void MakeDirectory(string directory)
    {
        if (OperatingSystem.IsWindows())
        {
            if (!Directory.Exists(Path.GetDirectoryName(directory)))
            {
                throw new DirectoryNotFoundException($"Could not make the directory '{directory}': its parent does not exist.");
            }

            Directory.CreateDirectory(directory);
            return;
        }

        // 0777 less the umask, as Directory.CreateDirectory makes them.
        if (MkDir(directory, 0b111_111_111) == 0)
        {
            return;
        }

        var errno = Marshal.GetLastPInvokeError();
        if (errno == AlreadyExists && Directory.Exists(directory))
        {
            return;
        }

        throw errno == NoSuchEntry
            ? new DirectoryNotFoundException($"Could not make the directory '{directory}': its parent does not exist.")
            : new IOException($"Could not make the directory '{directory}' (errno {errno}).");
    }
}
