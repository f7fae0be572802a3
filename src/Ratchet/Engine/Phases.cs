using System.Text.Json;
using System.Text.Json.Nodes;
using Ratchet.Serialization;

namespace Ratchet.Engine;

/// <summary>
/// One phase of a workflow run by phases (<see cref="PhaseWorkflows"/>): a node given by the caller when it runs rather
/// than by a definition. While it is in flight it is recorded in the store, so that whoever resumes the workflow after
/// a crash (<c>WorkflowEngine.ResumeAsync</c>, a worker) runs it again.
/// </summary>
internal sealed record PhaseSpec
{
    /// <summary>The phase's name: the node in the journal and the artifact's key.</summary>
    public required string Name { get; init; }

    /// <summary>What the phase does, for the engine's <see cref="IPhaseNodeFactory"/> (for example a command line): opaque to the engine.</summary>
    public required JsonElement Node { get; init; }

    /// <summary>How many attempts the phase gets, the first included. Default 1.</summary>
    public int MaxAttempts { get; init; } = 1;

    /// <summary>The wait before the second attempt, doubling (with jitter) for each next one, at most 5 minutes. Default 1 second.</summary>
    public TimeSpan RetryDelay { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>Whether the workflow completes once this phase has completed (the last phase of a pipeline).</summary>
    public bool Final { get; init; }

    /// <summary>The retry policy of the phase's node.</summary>
    public RetryPolicy Retry => new() { MaxAttempts = MaxAttempts, InitialDelay = RetryDelay };

    /// <summary>Every problem with the phase, as sentences.</summary>
    public IEnumerable<string> Problems()
    {
        if (string.IsNullOrWhiteSpace(Name) || Name.StartsWith('$'))
        {
            yield return $"The phase name '{Name}' is empty or starts with '$'.";
        }

        foreach (var problem in Retry.Problems($"Phase '{Name}'"))
        {
            yield return problem;
        }
    }

    internal JsonElement ToValue(string workflowType)
    {
        var value = new JsonObject
        {
            ["type"] = workflowType,
            ["name"] = Name,
            ["node"] = JsonNode.Parse(Node.GetRawText()),
            ["maxAttempts"] = MaxAttempts,
            ["retryDelayMs"] = (long)RetryDelay.TotalMilliseconds,
            ["final"] = Final,
        };
        return RatchetJson.ParseDocument(value.ToJsonString());
    }

    internal static (string Type, PhaseSpec Phase)? FromValue(JsonElement value)
    {
        if (value.ValueKind != JsonValueKind.Object || !value.TryGetProperty("name", out var name) || name.ValueKind != JsonValueKind.String ||
            !value.TryGetProperty("node", out var node) || !value.TryGetProperty("type", out var type) || type.ValueKind != JsonValueKind.String)
        {
            return null;
        }

        return (type.GetString()!, new PhaseSpec
        {
            Name = name.GetString()!,
            Node = node.Clone(),
            MaxAttempts = value.TryGetProperty("maxAttempts", out var attempts) && attempts.ValueKind == JsonValueKind.Number && attempts.TryGetInt32(out var count) ? count : 1,
            RetryDelay = value.TryGetProperty("retryDelayMs", out var delay) && delay.ValueKind == JsonValueKind.Number && delay.TryGetInt64(out var ms) ? TimeSpan.FromMilliseconds(ms) : TimeSpan.FromSeconds(1),
            Final = value.TryGetProperty("final", out var final) && final.ValueKind == JsonValueKind.True,
        });
    }
}

/// <summary>
/// Turns a phase's <see cref="PhaseSpec.Node"/> into the node that runs it. An engine runs phases when its services
/// hold one (<c>IServiceProvider.GetService(typeof(IPhaseNodeFactory))</c>); Ratchet.Hosting registers one that runs
/// shell commands. An engine without one neither claims nor runs phase workflows.
/// </summary>
internal interface IPhaseNodeFactory
{
    /// <summary>The node that runs <paramref name="phase"/> of <paramref name="workflow"/>.</summary>
    IWorkflowNode Create(WorkflowRecord workflow, PhaseSpec phase);
}

/// <summary>
/// Workflows run by phases: created without a definition (<see cref="DefinitionVersion"/> marks them), each node given
/// by the caller as it runs (<c>WorkflowEngine.RunPhaseAsync</c>), completed by the phase marked final. Between
/// phases such a workflow is Running with nothing due and nobody holding it.
/// </summary>
internal static class PhaseWorkflows
{
    /// <summary>The definition version of a workflow run by phases.</summary>
    public const string DefinitionVersion = "phases";

    /// <summary>The key-value namespace that holds the phase in flight of each workflow (key: its id).</summary>
    public const string Namespace = "ratchet.phases";

    /// <summary>Whether <paramref name="workflow"/> is run by phases.</summary>
    public static bool IsPhaseWorkflow(WorkflowRecord workflow)
    {
        ArgumentNullException.ThrowIfNull(workflow);
        return workflow.DefinitionVersion == DefinitionVersion;
    }

    /// <summary>
    /// Whether <paramref name="workflow"/> was made for phases before they had a marker of their own (no definition
    /// version, no parent): <c>RunPhaseAsync</c> takes it, and marks it.
    /// </summary>
    public static bool IsUnmarkedPhaseWorkflow(WorkflowRecord workflow)
    {
        ArgumentNullException.ThrowIfNull(workflow);
        return workflow.DefinitionVersion.Length == 0 && workflow.ParentId is null;
    }

    /// <summary>Whether a phase workflow waits for its next phase: its last one completed and nothing runs or is due.</summary>
    public static bool IsBetweenPhases(WorkflowRecord workflow)
    {
        ArgumentNullException.ThrowIfNull(workflow);
        return (IsPhaseWorkflow(workflow) || IsUnmarkedPhaseWorkflow(workflow)) && workflow is { Status: WorkflowStatus.Running, DueAt: null };
    }

    /// <summary>
    /// Whether a phase workflow has a phase to go on with: one that runs, was interrupted or killed, or waits for its
    /// retry back-off. Resuming it runs that phase; otherwise only its pipeline (the next <c>RunPhaseAsync</c>) can.
    /// </summary>
    public static bool HasPhaseInFlight(WorkflowRecord workflow)
    {
        ArgumentNullException.ThrowIfNull(workflow);
        return IsPhaseWorkflow(workflow) && workflow.DueAt is not null &&
            workflow is { Status: WorkflowStatus.Running } or { Status: WorkflowStatus.Waiting, WaitReason: WaitReason.Timer or WaitReason.Interrupted };
    }
}

/// <summary>How a call of <c>WorkflowEngine.RunPhaseAsync</c> ended.</summary>
public enum PhaseOutcome
{
    /// <summary>The phase ran and completed (the workflow too, for a final phase).</summary>
    Completed,

    /// <summary>The phase had completed before: nothing ran (a final phase still completed the workflow).</summary>
    Skipped,

    /// <summary>The phase failed after its attempts; the workflow is Failed.</summary>
    Failed,

    /// <summary>The run was stopped (the caller's token): the workflow is left resumable at the phase's attempt.</summary>
    Interrupted,

    /// <summary>The workflow was cancelled while the phase ran.</summary>
    Cancelled,
}

/// <summary>What the phase found when it started.</summary>
/// <param name="Workflow">The workflow as the phase's first attempt starts (Running at the phase).</param>
/// <param name="Attempt">The attempt it starts with.</param>
/// <param name="RetriedAfter">When the workflow had failed: its error (the phase retries it, audited as <c>retried</c>).</param>
/// <param name="Recovered">Whether the phase takes over an attempt a dead process left running.</param>
public sealed record PhaseStart(WorkflowRecord Workflow, int Attempt, WorkflowError? RetriedAfter, bool Recovered);

/// <summary>The result of <c>WorkflowEngine.RunPhaseAsync</c>.</summary>
/// <param name="Outcome">How it ended.</param>
/// <param name="Workflow">The workflow as stored at the end.</param>
/// <param name="Start">What the phase found when it started; null when it was skipped.</param>
/// <param name="Step">The phase's last journal step: the completed one (also when skipped) or the failed one.</param>
public sealed record PhaseRunResult(PhaseOutcome Outcome, WorkflowRecord Workflow, PhaseStart? Start, StepRecord? Step)
{
    /// <summary>How many attempts this run made (0 when skipped).</summary>
    public int Attempts => Start is null ? 0 : Math.Max(1, Workflow.Attempt - Start.Attempt + 1);
}

/// <summary>A workflow asked to run a phase is not run by phases (it has a definition); nothing was changed.</summary>
public sealed class NotAPhaseWorkflowException(WorkflowRecord workflow)
    : RatchetException($"Workflow '{workflow.Id}' runs the workflow definition '{workflow.Type}'; phases only run workflows made for phases.")
{
    /// <summary>The workflow.</summary>
    public string WorkflowId { get; } = workflow.Id;

    /// <summary>Its type.</summary>
    public string WorkflowType { get; } = workflow.Type;

    /// <inheritdoc />
    public override string ErrorCode => "not-a-phase-workflow";
}
