using System.Text.Json;
using Ratchet.Storage;

namespace Ratchet.Queues;

/// <summary>How a queue stands right now: its limits (null for a queue nobody defined) and its active workflows.</summary>
/// <param name="Name">The queue's name.</param>
/// <param name="Definition">Its limits as set, or null when workflows name a queue that was never set.</param>
/// <param name="Running">Workflows of the queue holding a live lease: the queue's slots in use.</param>
/// <param name="Waiting">Active workflows of the queue that hold no slot (due and waiting for one, or parked).</param>
public sealed record QueueStatus(string Name, QueueDefinition? Definition, int Running, int Waiting);

/// <summary>
/// The store's named queues: set, get, list, remove, and how they stand. Each queue is one JSON value in the key-value
/// namespace <see cref="Namespace"/>, written through the storage contract, so every backend keeps it, and every store
/// reads it inside its claim: a change applies to all workers at their next claim.
/// </summary>
public sealed class QueueCatalog
{
    /// <summary>The reserved key-value namespace that holds the queues, one key per queue name.</summary>
    public const string Namespace = "ratchet.queues";

    private readonly IRatchetStore _store;
    private readonly TimeProvider _clock;

    /// <summary>A catalog over <paramref name="store"/>.</summary>
    public QueueCatalog(IRatchetStore store, TimeProvider? clock = null)
    {
        ArgumentNullException.ThrowIfNull(store);
        _store = store;
        _clock = clock ?? TimeProvider.System;
    }

    /// <summary>Checks and stores a queue's limits, replacing what the name held; returns it as stored.</summary>
    /// <exception cref="QueueDefinitionException">It is not valid.</exception>
    public async Task<QueueDefinition> SetAsync(QueueDefinition queue, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(queue);
        queue.Validate();
        var stored = queue with { UpdatedAt = _clock.GetStoreNow() };
        await _store.CommitAsync(new ChangeSet().SaveValue(Namespace, queue.Name, ToJson(stored)), cancellationToken);
        return stored;
    }

    /// <summary>Every queue set in the store, ordered by name.</summary>
    public async Task<IReadOnlyList<QueueDefinition>> ListAsync(CancellationToken cancellationToken = default) =>
        (await _store.ListValuesAsync(Namespace, cancellationToken)).Select(FromEntry).ToArray();

    /// <summary>The queue with this name, or null if it was never set.</summary>
    public async Task<QueueDefinition?> FindAsync(string name, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        return await _store.GetValueAsync(Namespace, name, cancellationToken) is { } entry ? FromEntry(entry) : null;
    }

    /// <summary>Removes a queue's limits; its workflows stay in it and run without limits (partitions still one at a time).</summary>
    /// <exception cref="QueueNotFoundException">There is none.</exception>
    public async Task RemoveAsync(string name, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        var entry = await _store.GetValueAsync(Namespace, name, cancellationToken) ?? throw new QueueNotFoundException(name);
        await _store.CommitAsync(new ChangeSet().DeleteValue(Namespace, name, entry.Version), cancellationToken);
    }

    /// <summary>
    /// Every queue that is set or that an active workflow names, with its slots in use and its waiting workflows. The
    /// counts come from a scan of the active workflows (a moment's picture: workers keep claiming meanwhile).
    /// </summary>
    public async Task<IReadOnlyList<QueueStatus>> StatusAsync(CancellationToken cancellationToken = default)
    {
        var definitions = (await ListAsync(cancellationToken)).ToDictionary(q => q.Name, StringComparer.Ordinal);
        var counts = new Dictionary<string, (int Running, int Waiting)>(StringComparer.Ordinal);
        var now = _clock.GetStoreNow();
        foreach (var workflow in await ActiveWorkflowsAsync(null, cancellationToken))
        {
            counts.TryGetValue(workflow.Queue!, out var count);
            counts[workflow.Queue!] = HoldsSlot(workflow, now) ? (count.Running + 1, count.Waiting) : (count.Running, count.Waiting + 1);
        }

        return definitions.Keys.Union(counts.Keys).Order(StringComparer.Ordinal)
            .Select(name =>
            {
                counts.TryGetValue(name, out var count);
                return new QueueStatus(name, definitions.GetValueOrDefault(name), count.Running, count.Waiting);
            })
            .ToArray();
    }

    /// <summary>The active workflows of queue <paramref name="name"/>: those holding a slot first, then by priority and due time.</summary>
    public async Task<IReadOnlyList<WorkflowRecord>> WorkflowsAsync(string name, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        var now = _clock.GetStoreNow();
        return (await ActiveWorkflowsAsync(name, cancellationToken))
            .OrderByDescending(w => HoldsSlot(w, now))
            .ThenByDescending(w => w.QueuePriority)
            .ThenBy(w => w.DueAt ?? DateTimeOffset.MaxValue)
            .ThenBy(w => w.Id, StringComparer.Ordinal)
            .ToArray();
    }

    /// <summary>Whether a workflow of a queue holds one of its slots: a live lease on a workflow that has not ended.</summary>
    public static bool HoldsSlot(WorkflowRecord workflow, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(workflow);
        return !workflow.IsTerminal && workflow.LeaseOwner is not null && workflow.LeaseExpiresAt > now;
    }

    internal static JsonElement ToJson(QueueDefinition queue) => JsonSerializer.SerializeToElement(queue, QueueJsonContext.Default.QueueDefinition);

    internal static QueueDefinition FromEntry(KeyValueEntry entry) =>
        QueueJsonContext.Read(entry.Key, entry.Value) ?? throw new StoreCorruptException($"The queue '{entry.Key}' is stored as null; set it again.");

    private async Task<List<WorkflowRecord>> ActiveWorkflowsAsync(string? queue, CancellationToken cancellationToken)
    {
        var found = new List<WorkflowRecord>();
        string? token = null;
        do
        {
            var page = await _store.ListWorkflowsAsync(WorkflowQuery.Active with { Limit = WorkflowQuery.MaxLimit, PageToken = token }, cancellationToken);
            found.AddRange(page.Items.Where(w => w.Queue is not null && (queue is null || string.Equals(w.Queue, queue, StringComparison.Ordinal))));
            token = page.NextPageToken;
        }
        while (token is not null);
        return found;
    }
}
