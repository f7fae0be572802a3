using System.Diagnostics;

namespace Ratchet.Files;

/// <summary>
/// The root's <c>.lock</c> file, opened with <see cref="FileShare.None"/> (an exclusive <c>flock</c> on Unix, a share
/// lock on Windows) for the length of one operation, so that stores in several processes take turns.
/// </summary>
internal static class FileLock
{
    public static async Task<FileStream> AcquireAsync(string path, TimeSpan timeout, string description, CancellationToken cancellationToken)
    {
        var waited = Stopwatch.StartNew();
        var delay = 1;
        while (true)
        {
            try
            {
                return new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None, bufferSize: 1);
            }
            catch (IOException) when (waited.Elapsed < timeout)
            {
                // Held by another process or store instance: wait a little longer each time, up to 20 ms.
                await Task.Delay(delay, cancellationToken).ConfigureAwait(false);
                delay = Math.Min(delay * 2, 20);
            }
            catch (IOException ex)
            {
                throw new StoreUnavailableException(
                    $"The store {description} stayed locked by another process for {timeout.TotalSeconds:0.###} s (lock file '{path}'); retry, or raise LockTimeout.",
                    ex);
            }
        }
    }
}
