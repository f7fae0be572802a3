using System.Text.Json;
using Ratchet.Serialization;
using Ratchet.Storage;

namespace Ratchet.Engine;

/// <summary>How to retry a workflow (see <see cref="WorkflowEngine.RetryAsync(string, RetryOptions, CancellationToken)"/>).</summary>
public sealed record RetryOptions
{
    /// <summary>The node to run again from; null for the node that failed (or was running when it was cancelled).</summary>
    public string? FromNode { get; init; }

    /// <summary>
    /// The version of a definition of the workflow's type, registered with the engine, to run the rest on instead of the
    /// one it ran (a newer file, say); null to keep it. The change is audited with both versions.
    /// </summary>
    public string? DefinitionVersion { get; init; }
}

/// <summary>How to fork a workflow (see <see cref="WorkflowEngine.ForkAsync"/>).</summary>
public sealed record ForkOptions
{
    /// <summary>The node the new workflow starts at; the source must have reached it.</summary>
    public required string FromNode { get; init; }

    /// <summary>The new workflow's id; forking again with the same id returns the fork made first. Null to generate one.</summary>
    public string? Id { get; init; }

    /// <summary>
    /// The version of a definition of the source's type, registered with the engine, for the new workflow to run; null
    /// for the source's own. The change is audited with both versions.
    /// </summary>
    public string? DefinitionVersion { get; init; }
}

/// <summary>A fork was asked from a node the source workflow never reached, so there is no history up to it to copy.</summary>
public sealed class NodeNotReachedException(string workflowId, string node, string? message = null)
    : RatchetException(message ?? $"Workflow '{workflowId}' never reached node '{node}', so there is no history up to it to fork; fork from a node it ran.")
{
    /// <summary>The source workflow.</summary>
    public string WorkflowId { get; } = workflowId;

    /// <summary>The node asked for.</summary>
    public string Node { get; } = node;

    /// <inheritdoc />
    public override string ErrorCode => "node-not-reached";
}

public sealed partial class WorkflowEngine
{
    /// <summary>
    /// Starts a new workflow with the history of <paramref name="workflowId"/> up to the last time it reached
    /// <see cref="ForkOptions.FromNode"/> (as Temporal's reset or DBOS's fork): the source's input and metadata, and
    /// every node that completed before that point with its output (so later nodes read the same artifacts). The new
    /// workflow starts at the node, due now; its audit trail begins with <c>forked-from</c> (source and node), and the
    /// source gets a <c>forked</c> event naming it, in the same commit. The source may be in any status, Running
    /// included (its committed history so far is copied); it is not changed otherwise.
    /// </summary>
    /// <exception cref="WorkflowNotFoundException">There is no such workflow.</exception>
    /// <exception cref="UnknownNodeException">The definition the fork runs has no such node.</exception>
    /// <exception cref="NodeNotReachedException">The source never reached the node.</exception>
    /// <exception cref="WorkflowAlreadyExistsException">The id is taken by a workflow that is not this fork.</exception>
    public async Task<WorkflowRecord> ForkAsync(string workflowId, ForkOptions options, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentException.ThrowIfNullOrWhiteSpace(options.FromNode);
        var node = options.FromNode;
        var source = await Store.GetRequiredWorkflowAsync(workflowId, cancellationToken);
        var definition = DefinitionFor(source, options.DefinitionVersion);
        if (!definition.HasNode(node))
        {
            throw new UnknownNodeException(definition.Name, definition.Version, node, [.. definition.Nodes.Select(n => n.Name)]);
        }

        // Events before steps: every commit appends both, so steps read second hold at least those the events name.
        var events = await Store.GetEventsAsync(source.Id, cancellationToken: cancellationToken);
        var steps = await Store.GetStepsAsync(source.Id, cancellationToken);
        var copied = HistoryBefore(source, node, events, steps);
        var artifacts = new Dictionary<string, JsonElement>(StringComparer.Ordinal);
        foreach (var step in copied)
        {
            artifacts[step.Node] = step.Output ?? RatchetJson.Parse("null");
        }

        var request = definition.Place(new NewWorkflow
        {
            Type = source.Type,
            Id = options.Id,
            Input = source.Input,
            Metadata = source.Metadata,
            DefinitionVersion = definition.Version,
            StartNode = node,
            TraceParent = source.TraceParent,
        });
        if (definition.Queue is { } queue)
        {
            await EnsureQueueAsync(queue, cancellationToken);
        }

        var link = Steps.Payload(("id", source.Id), ("node", node));
        var result = await Creator.CreateAsync(request, (pending, changes) =>
        {
            var now = pending.CreatedAt;
            foreach (var step in copied)
            {
                changes.AppendStep(step with { WorkflowId = pending.Id, Sequence = 0 });
            }

            changes.AppendEvent(new AuditEvent { WorkflowId = pending.Id, Type = AuditEventTypes.ForkedFrom, Node = node, At = now, Payload = link });
            if (definition.Version != source.DefinitionVersion)
            {
                changes.AppendEvent(DefinitionChangedEvent(pending.Id, node, source.DefinitionVersion, definition.Version, now));
            }

            changes.AppendEvent(new AuditEvent
            {
                WorkflowId = source.Id, Type = AuditEventTypes.Forked, Node = node, At = now, Payload = Steps.Payload(("id", pending.Id), ("node", node)),
            });
            return pending with { Artifacts = artifacts };
        }, cancellationToken);

        if (!result.Created)
        {
            // An id given again: the same fork is returned, anything else under that id is refused.
            var first = (await Store.GetEventsAsync(result.Workflow.Id, limit: 3, cancellationToken: cancellationToken))
                .FirstOrDefault(e => e.Type == AuditEventTypes.ForkedFrom);
            if (first?.Payload is not { } payload || payload.GetProperty("id").GetString() != source.Id || payload.GetProperty("node").GetString() != node)
            {
                throw new WorkflowAlreadyExistsException(result.Workflow.Id,
                    $"Workflow id '{result.Workflow.Id}' is already used by a workflow that is not a fork of '{source.Id}' from node '{node}'. Choose another id.");
            }

            return result.Workflow;
        }

        Log.WorkflowForked(Logger, source.Id, node, result.Workflow.Id);
        RatchetTelemetry.WorkflowsStarted.Add(1, new KeyValuePair<string, object?>(RatchetTelemetry.Tags.WorkflowType, source.Type));
        if (Observers.HasObservers)
        {
            Observers.Publish(Steps.Event(WorkflowEventKind.Started, result.Workflow, result.Workflow.CreatedAt));
        }

        Nudge();
        return result.Workflow;
    }

    /// <summary>
    /// The completed steps of <paramref name="source"/> committed before its last start of <paramref name="node"/>, in
    /// journal order; everything completed, when the source now stands at that node not yet started.
    /// </summary>
    private static List<StepRecord> HistoryBefore(WorkflowRecord source, string node, IReadOnlyList<AuditEvent> events, IReadOnlyList<StepRecord> steps)
    {
        var waitsAtNode = !source.IsTerminal && source.CurrentNode == node && source.Attempt == 0;
        var cut = waitsAtNode
            ? long.MaxValue
            : events.LastOrDefault(e => e.Type == AuditEventTypes.NodeStarted && e.Node == node)?.Sequence
                ?? throw new NodeNotReachedException(source.Id, node);

        // A node's completion appends its step and its node-completed event in one commit, both in order: the first
        // N completed steps of a node are the ones whose N events come before the cut.
        var completions = events.Where(e => e.Sequence < cut && e.Type == AuditEventTypes.NodeCompleted && e.Node is not null)
            .CountBy(e => e.Node!, StringComparer.Ordinal).ToDictionary(StringComparer.Ordinal);
        var copied = new List<StepRecord>();
        foreach (var step in steps.Where(s => s.Outcome == StepOutcome.Completed))
        {
            if (completions.TryGetValue(step.Node, out var left) && left > 0)
            {
                completions[step.Node] = left - 1;
                copied.Add(step);
            }
        }

        return copied;
    }

    /// <summary>The definition to go on with: the registered one of <paramref name="version"/>, else the one the workflow runs.</summary>
    private WorkflowDefinition DefinitionFor(WorkflowRecord workflow, string? version)
    {
        if (version is null)
        {
            return RequireDefinition(workflow);
        }

        return Definitions.Find(workflow.Type, version)
            ?? throw new ArgumentException(
                $"No definition of '{workflow.Type}' with version {version} is registered with this engine; register it (or run its file) first.", nameof(version));
    }

    private static AuditEvent DefinitionChangedEvent(string workflowId, string? node, string from, string to, DateTimeOffset now) => new()
    {
        WorkflowId = workflowId, Type = AuditEventTypes.DefinitionChanged, Node = node, At = now, Payload = Steps.Payload(("from", from), ("to", to)),
    };
}
