using System.Text.Json;
using Ratchet.Engine;

namespace Ratchet.Templates;

/// <summary>
/// What a step implementation is told about the run it serves: the workflow, the step, the attempt, an idempotency key
/// for its side effects, and a way to report progress. Constructible, so that implementations can be tested alone.
/// </summary>
public sealed class StepContext
{
    private readonly Func<string, CancellationToken, Task>? _reportProgress;

    /// <summary>Creates a context; templates create one per step run with <see cref="FromNode"/>.</summary>
    /// <param name="workflowId">The workflow's id.</param>
    /// <param name="workflowType">The workflow's type (the template's name, or the name given in its options).</param>
    /// <param name="step">The step running.</param>
    /// <param name="attempt">The engine's attempt number of this step: 1 the first time, more after a retry or a crash.</param>
    /// <param name="idempotencyKey">A key unique per step attempt, for making side effects idempotent.</param>
    /// <param name="metadata">The workflow's metadata, if any.</param>
    /// <param name="reportProgress">Receives progress messages; null ignores them.</param>
    public StepContext(
        string workflowId,
        string workflowType,
        string step,
        int attempt,
        string idempotencyKey,
        JsonElement? metadata = null,
        Func<string, CancellationToken, Task>? reportProgress = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(workflowId);
        ArgumentException.ThrowIfNullOrWhiteSpace(workflowType);
        ArgumentException.ThrowIfNullOrWhiteSpace(step);
        ArgumentException.ThrowIfNullOrWhiteSpace(idempotencyKey);
        ArgumentOutOfRangeException.ThrowIfLessThan(attempt, 1);
        WorkflowId = workflowId;
        WorkflowType = workflowType;
        Step = step;
        Attempt = attempt;
        IdempotencyKey = idempotencyKey;
        Metadata = metadata;
        _reportProgress = reportProgress;
    }

    /// <summary>The workflow's id.</summary>
    public string WorkflowId { get; }

    /// <summary>The workflow's type: lets one implementation serve several templates and tell them apart.</summary>
    public string WorkflowType { get; }

    /// <summary>The step running, for example <c>Analyzing</c>.</summary>
    public string Step { get; }

    /// <summary>The engine's attempt number of this step: 1 the first time, more after a retry or a crash.</summary>
    public int Attempt { get; }

    /// <summary>
    /// Unique per step attempt (<c>{workflow id}/{step}/{attempt}</c>): pass it to APIs that take an idempotency key, or
    /// look for work it already did, since a step may run again after a crash.
    /// </summary>
    public string IdempotencyKey { get; }

    /// <summary>The metadata the workflow was started with, if any.</summary>
    public JsonElement? Metadata { get; }

    /// <summary>Tells the engine's observers how the step is getting on; kept in the audit trail with the step's result.</summary>
    public Task ReportProgressAsync(string message, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(message);
        return _reportProgress is null ? Task.CompletedTask : _reportProgress(message, cancellationToken);
    }

    /// <summary>The context of the step a running node serves, for custom nodes that call the templates' step interfaces.</summary>
    public static StepContext FromNode(NodeContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        return new StepContext(
            context.WorkflowId,
            context.WorkflowType,
            context.Node,
            Math.Max(1, context.Attempt),
            context.IdempotencyKey,
            context.Metadata,
            context.ReportProgressAsync);
    }
}
