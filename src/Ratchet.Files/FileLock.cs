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
            catch (DirectoryNotFoundException ex)
            {
                // Not a lock held by someone: waiting would only delay the same answer.
                throw Gone(description, Path.GetDirectoryName(path)!, ex);
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

    /// <summary>The store's folder went away under it: an outage (it may come back), not an empty store.</summary>
    public static StoreUnavailableException Gone(string description, string root, Exception? inner) => new(
        $"The store {description} is gone: its folder '{root}' no longer exists (moved, deleted or unmounted). Put it back, or point the store at where it is now; the operation can be retried.",
        inner);
}
