using System.Runtime.InteropServices;

namespace Ratchet.Files;

/// <summary>The libc calls .NET does not expose: fsync of a directory, which makes a rename in it durable.</summary>
internal static partial class NativeMethods
{
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
}
