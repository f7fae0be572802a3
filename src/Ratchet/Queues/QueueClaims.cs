using Ratchet.Storage;

namespace Ratchet.Queues;

/// <summary>A workflow of a queue holding a live lease: a slot in use.</summary>
internal readonly record struct QueueHolder(string? Partition, string Owner);

/// <summary>A due, claimable workflow of a queue.</summary>
internal readonly record struct QueueCandidate(string Id, string? Partition);

/// <summary>
/// What a store does, inside the one transaction (or under the one lock) of a claim, for the queue part of it. The
/// store serializes claims of one queue (<see cref="LockQueueAsync"/>), so that counting the slots in use and taking
/// the free ones are one atomic step however many workers claim at once.
/// </summary>
internal interface IQueueClaimSession
{
    /// <summary>The queues that have due, claimable workflows (of the types asked for).</summary>
    ValueTask<IReadOnlyList<string>> DueQueuesAsync(long nowMicros, IReadOnlyList<string>? types);

    /// <summary>Serializes claims of this queue until the claim's transaction ends (a no-op for a store with one writer).</summary>
    ValueTask LockQueueAsync(string queue);

    /// <summary>The queue's definition as set in <see cref="QueueCatalog.Namespace"/>, or null.</summary>
    ValueTask<QueueDefinition?> ReadQueueAsync(string queue);

    /// <summary>The queue's workflows that hold a live lease.</summary>
    ValueTask<IReadOnlyList<QueueHolder>> HoldersAsync(string queue, long nowMicros);

    /// <summary>Forgets the queue's starts at or before <paramref name="sinceMicros"/> and counts the rest.</summary>
    ValueTask<int> CountStartsAsync(string queue, long sinceMicros);

    /// <summary>Due, claimable workflows of the queue, highest priority first, then by due time and id.</summary>
    ValueTask<IReadOnlyList<QueueCandidate>> CandidatesAsync(string queue, long nowMicros, IReadOnlyList<string>? types, int limit);

    /// <summary>Leases a candidate (version + 1); null if it is no longer claimable.</summary>
    ValueTask<WorkflowRecord?> TakeAsync(string id, string owner, long nowMicros, long expiresMicros);

    /// <summary>Records <paramref name="count"/> starts of the queue at <paramref name="atMicros"/>.</summary>
    ValueTask RecordStartsAsync(string queue, long atMicros, int count);
}

/// <summary>
/// The queue rules every store applies in its claim, written once: a workflow of a queue is leased only while the
/// queue's concurrency, the claiming worker's share, the rate window and its partition's limit all have room, highest
/// priority first. A slot is a live lease on a workflow that has not ended, so a lease that lapses frees its slot.
/// </summary>
internal static class QueueClaims
{
    /// <summary>How many candidates a claim looks through when partitions skip some.</summary>
    private const int PartitionScan = 256;

    /// <summary>Claims up to <paramref name="room"/> due workflows of queues for <paramref name="request"/>'s owner.</summary>
    public static async ValueTask<List<WorkflowRecord>> ClaimAsync(IQueueClaimSession session, LeaseRequest request, long nowMicros, long expiresMicros, int room)
    {
        var claimed = new List<WorkflowRecord>();
        var queues = (await session.DueQueuesAsync(nowMicros, request.Types)).Order(StringComparer.Ordinal).ToArray();
        foreach (var queue in queues)
        {
            if (claimed.Count >= room)
            {
                break;
            }

            await session.LockQueueAsync(queue);
            var admission = await AdmissionAsync(session, queue, request.Owner, nowMicros);
            var free = Math.Min(admission.Free, room - claimed.Count);
            if (free <= 0)
            {
                continue;
            }

            var taken = 0;
            var skipped = false;
            foreach (var limit in new[] { free, PartitionScan })
            {
                foreach (var candidate in await session.CandidatesAsync(queue, nowMicros, request.Types, limit))
                {
                    if (taken >= free)
                    {
                        break;
                    }

                    if (claimed.Exists(w => string.Equals(w.Id, candidate.Id, StringComparison.Ordinal)))
                    {
                        continue;
                    }

                    if (!admission.TryTake(candidate.Partition))
                    {
                        skipped = true;
                        continue;
                    }

                    if (await session.TakeAsync(candidate.Id, request.Owner, nowMicros, expiresMicros) is { } workflow)
                    {
                        claimed.Add(workflow);
                        taken++;
                    }
                }

                // A second, longer look only when partitions passed over candidates that a slot was left for.
                if (!skipped || taken >= free || limit >= PartitionScan)
                {
                    break;
                }
            }

            if (taken > 0 && admission.CountsStarts)
            {
                await session.RecordStartsAsync(queue, nowMicros, taken);
            }
        }

        return claimed;
    }

    /// <summary>
    /// Whether one workflow of <paramref name="queue"/> (in <paramref name="partition"/>) may be leased by
    /// <paramref name="owner"/> now; the caller takes it and then calls <see cref="StartedAsync"/>.
    /// </summary>
    public static async ValueTask<bool> AdmitsAsync(IQueueClaimSession session, string queue, string? partition, string owner, long nowMicros)
    {
        await session.LockQueueAsync(queue);
        var admission = await AdmissionAsync(session, queue, owner, nowMicros);
        return admission.Free > 0 && admission.TryTake(partition);
    }

    /// <summary>Records the start of a workflow admitted by <see cref="AdmitsAsync"/>, if its queue has a rate.</summary>
    public static async ValueTask StartedAsync(IQueueClaimSession session, string queue, long nowMicros)
    {
        if ((await session.ReadQueueAsync(queue))?.RateLimit is not null)
        {
            await session.RecordStartsAsync(queue, nowMicros, 1);
        }
    }

    private static async ValueTask<Admission> AdmissionAsync(IQueueClaimSession session, string queue, string owner, long nowMicros)
    {
        var definition = await session.ReadQueueAsync(queue);
        var holders = await session.HoldersAsync(queue, nowMicros);
        var free = int.MaxValue;
        if (definition?.Concurrency is { } concurrency)
        {
            free = Math.Min(free, concurrency - holders.Count);
        }

        if (definition?.PerWorker is { } perWorker)
        {
            free = Math.Min(free, perWorker - holders.Count(h => string.Equals(h.Owner, owner, StringComparison.Ordinal)));
        }

        if (definition is { RateLimit: { } rate, RatePeriodMicroseconds: { } period })
        {
            free = Math.Min(free, rate - await session.CountStartsAsync(queue, nowMicros - period));
        }

        var partitions = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var holder in holders)
        {
            if (holder.Partition is { } key)
            {
                partitions[key] = partitions.GetValueOrDefault(key) + 1;
            }
        }

        return new Admission(free, definition?.PartitionConcurrency ?? 1, partitions, definition?.RateLimit is not null);
    }

    private sealed class Admission(int free, int partitionLimit, Dictionary<string, int> partitions, bool countsStarts)
    {
        public int Free { get; } = free;

        public bool CountsStarts { get; } = countsStarts;

        public bool TryTake(string? partition)
        {
            if (partition is null)
            {
                return true;
            }

            var running = partitions.GetValueOrDefault(partition);
            if (running >= partitionLimit)
            {
                return false;
            }

            partitions[partition] = running + 1;
            return true;
        }
    }
}
