using System.Text.Json;
using Ratchet.Queues;
using Ratchet.Storage;

namespace Ratchet.Engine;

/// <summary>
/// The queue a definition's workflows run in, and how each one's place in it is chosen when it starts: a partition
/// key (for example the repository it works on) and a priority, both from its input. The queue's limits are the
/// store's (<see cref="QueueCatalog"/>); <see cref="Limits"/> only sets them when the queue is not set yet.
/// </summary>
public sealed record WorkflowQueue
{
    /// <summary>The queue's name.</summary>
    public required string Name { get; init; }

    /// <summary>The partition key of a workflow started with this input (null or empty for none).</summary>
    public Func<JsonElement?, string?>? Partition { get; init; }

    /// <summary>The priority of a workflow started with this input (higher first); 0 when null.</summary>
    public Func<JsonElement?, int>? Priority { get; init; }

    /// <summary>The queue's limits, stored when a workflow starts and the store has no such queue; null to leave them to <c>ratchet queue set</c>.</summary>
    public QueueDefinition? Limits { get; init; }

    /// <summary>The request with the workflow's queue, partition and priority.</summary>
    internal NewWorkflow Place(NewWorkflow request)
    {
        var partition = Partition?.Invoke(request.Input);
        return request with
        {
            Queue = Name,
            QueuePartition = string.IsNullOrEmpty(partition) ? null : partition,
            QueuePriority = Priority?.Invoke(request.Input) ?? 0,
        };
    }
}
