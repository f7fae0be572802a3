using System.Globalization;
using Ratchet.Queues;
using Ratchet.Serialization;

namespace Ratchet.Files;

/// <summary>
/// The queue part of a claim, under the store's lock (one process at a time), so the count of a queue's slots and the
/// leases it allows are one step. The starts a rate window counts are kept as a key-value entry per queue in
/// <see cref="StartsNamespace"/>, written in the claim's own commit: this store has no other place for them.
/// </summary>
public sealed partial class FilesRatchetStore
{
    /// <summary>The reserved namespace holding, per rate-limited queue, the start times its window still counts.</summary>
    public const string StartsNamespace = "ratchet.queue-starts";

    private sealed class QueueSession(FilesSession session, List<WorkflowRecord> workflows) : IQueueClaimSession
    {
        private readonly Dictionary<string, int> _index = workflows.Select((w, i) => (w.Id, i)).ToDictionary(x => x.Id, x => x.i, StringComparer.Ordinal);

        public ValueTask<IReadOnlyList<string>> DueQueuesAsync(long nowMicros, IReadOnlyList<string>? types) =>
            new(Claimable(null, nowMicros, types).Select(w => w.Queue!).Distinct(StringComparer.Ordinal).ToList());

        public ValueTask LockQueueAsync(string queue) => ValueTask.CompletedTask;

        public ValueTask<QueueDefinition?> ReadQueueAsync(string queue) =>
            new(session.Value(QueueCatalog.Namespace, queue) is { } entry ? QueueCatalog.FromEntry(entry) : null);

        public ValueTask<IReadOnlyList<QueueHolder>> HoldersAsync(string queue, long nowMicros) =>
            new(workflows
                .Where(w => string.Equals(w.Queue, queue, StringComparison.Ordinal) && QueueCatalog.HoldsSlot(w, StoreTime.FromMicroseconds(nowMicros)))
                .Select(w => new QueueHolder(w.QueuePartition, w.LeaseOwner!))
                .ToList());

        public ValueTask<int> CountStartsAsync(string queue, long sinceMicros)
        {
            var starts = Starts(queue);
            var kept = starts.Where(at => at > sinceMicros).ToList();
            if (kept.Count != starts.Count)
            {
                PutStarts(queue, kept);
            }

            return new(kept.Count);
        }

        public ValueTask<IReadOnlyList<QueueCandidate>> CandidatesAsync(string queue, long nowMicros, IReadOnlyList<string>? types, int limit) =>
            new(Claimable(queue, nowMicros, types)
                .OrderByDescending(w => w.QueuePriority).ThenBy(w => w.DueAt).ThenBy(w => w.Id, StringComparer.Ordinal)
                .Take(limit)
                .Select(w => new QueueCandidate(w.Id, w.QueuePartition))
                .ToList());

        public ValueTask<WorkflowRecord?> TakeAsync(string id, string owner, long nowMicros, long expiresMicros)
        {
            var current = workflows[_index[id]];
            if (current.IsTerminal || current.LeaseOwner is not null && current.LeaseExpiresAt > StoreTime.FromMicroseconds(nowMicros))
            {
                return new((WorkflowRecord?)null);
            }

            var taken = current with { LeaseOwner = owner, LeaseExpiresAt = StoreTime.FromMicroseconds(expiresMicros), Version = current.Version + 1 };
            workflows[_index[id]] = taken;
            session.PutWorkflow(taken);
            return new(taken);
        }

        public ValueTask RecordStartsAsync(string queue, long atMicros, int count)
        {
            var starts = Starts(queue);
            starts.AddRange(Enumerable.Repeat(atMicros, count));
            PutStarts(queue, starts);
            return ValueTask.CompletedTask;
        }

        private IEnumerable<WorkflowRecord> Claimable(string? queue, long nowMicros, IReadOnlyList<string>? types)
        {
            var now = StoreTime.FromMicroseconds(nowMicros);
            return workflows.Where(w => w.Queue is not null && (queue is null || string.Equals(w.Queue, queue, StringComparison.Ordinal)) &&
                w.DueAt <= now && w.ArchivedAt is null && !w.IsTerminal && (w.LeaseOwner is null || w.LeaseExpiresAt <= now) &&
                (types is not { Count: > 0 } || types.Contains(w.Type, StringComparer.Ordinal)));
        }

        private List<long> Starts(string queue) =>
            session.Value(StartsNamespace, queue) is { } entry ? entry.Value.EnumerateArray().Select(e => e.GetInt64()).ToList() : [];

        private void PutStarts(string queue, List<long> starts)
        {
            if (starts.Count == 0)
            {
                session.RemoveValue(StartsNamespace, queue);
                return;
            }

            SaveValue(session, StartsNamespace, queue, RatchetJson.Parse("[" + string.Join(",", starts.Select(at => at.ToString(CultureInfo.InvariantCulture))) + "]"));
        }
    }
}
