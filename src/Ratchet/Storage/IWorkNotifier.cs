namespace Ratchet.Storage;

/// <summary>
/// Implemented by stores shared between processes (PostgreSQL's LISTEN/NOTIFY, Redis pub/sub) so that an idle worker
/// looks for work as soon as another process makes some due, instead of at its next poll.
/// </summary>
/// <remarks>
/// Notifications are hints: they may be coalesced, spurious or lost (a dropped connection), so workers still poll.
/// Correctness never depends on them; only the delay before an idle worker notices new work does.
/// </remarks>
public interface IWorkNotifier
{
    /// <summary>
    /// Calls <paramref name="onWorkDue"/> whenever a commit in any process may have made a workflow due: created,
    /// woken from a wait, released or approved. The callback runs on a background thread and must return quickly.
    /// Dispose the result to stop.
    /// </summary>
    IDisposable SubscribeToWork(Action onWorkDue);
}
