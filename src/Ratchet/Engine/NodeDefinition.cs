using System.Text.Json;

namespace Ratchet.Engine;

/// <summary>
/// One node of a <see cref="WorkflowDefinition"/>: what every node has (its name, where its outcomes lead, its failure
/// path and policies). What a node does is its type, one sealed record per kind: <see cref="ActionNodeDefinition"/>,
/// <see cref="ApprovalNodeDefinition"/>, <see cref="SignalNodeDefinition"/>, <see cref="DelayNodeDefinition"/> and
/// <see cref="SubWorkflowNodeDefinition"/>, each holding only its own settings. Built by <see cref="WorkflowBuilder"/>;
/// immutable.
/// </summary>
public abstract record NodeDefinition
{
    private static readonly IReadOnlyDictionary<string, string> NoTransitions = new Dictionary<string, string>(StringComparer.Ordinal);

    // The kinds are this assembly's: the engine runs each of them, so a kind it does not know could not run. Each kind
    // says what of it goes into the definition's version, and the retry policy it starts with (null: the workflow's).
    private protected NodeDefinition(string name, NodeVersionText versionText, RetryPolicy? retry = null)
    {
        Name = name;
        VersionText = versionText;
        Retry = retry;
    }

    /// <summary>The node's name, unique in its workflow.</summary>
    public string Name { get; }

    /// <summary>A short description for graphs and listings.</summary>
    public string? Description { get; internal init; }

    /// <summary>The node taken after success, or after an outcome that has no transition of its own; null ends the workflow.</summary>
    public string? Next { get; internal init; }

    /// <summary>Transitions by outcome (for approvals: <c>approved</c>, <c>rejected</c>).</summary>
    public IReadOnlyDictionary<string, string> Transitions { get; internal init; } = NoTransitions;

    /// <summary>The node taken when this one fails for good (retries exhausted); null fails the workflow.</summary>
    public string? FailureTarget { get; internal init; }

    /// <summary>Whether finishing this node ends the workflow as Failed (a failure path's last node) rather than Completed.</summary>
    public bool FailsWorkflow { get; internal init; }

    /// <summary>This node's retry policy; null uses the workflow's default.</summary>
    public RetryPolicy? Retry { get; internal init; }

    /// <summary>How long one attempt may run; null for no limit of its own.</summary>
    public TimeSpan? Timeout { get; internal init; }

    /// <summary>The kind's own settings as they enter the definition's version (see <see cref="WorkflowDefinition.Version"/>).</summary>
    internal NodeVersionText VersionText { get; }

    /// <summary>Whether some outcome of this node ends the workflow.</summary>
    internal virtual bool CanEnd =>
        Next is null || Next == WorkflowDefinition.End || Transitions.Values.Contains(WorkflowDefinition.End);

    /// <summary>Every node this one can lead to, end and failure paths included.</summary>
    public IEnumerable<string> Targets()
    {
        if (Next is not null)
        {
            yield return Next;
        }

        foreach (var target in Transitions.Values)
        {
            yield return target;
        }

        if (FailureTarget is not null)
        {
            yield return FailureTarget;
        }
    }

    /// <summary>The node an outcome leads to; null ends the workflow.</summary>
    public string? TargetFor(string outcome)
    {
        var target = Transitions.TryGetValue(outcome, out var chosen) ? chosen : Next;
        return target == WorkflowDefinition.End ? null : target;
    }

    /// <summary>The same node with <paramref name="outcome"/> leading to <paramref name="target"/>.</summary>
    internal NodeDefinition WithTransition(string outcome, string target) =>
        this with { Transitions = new Dictionary<string, string>(Transitions, StringComparer.Ordinal) { [outcome] = target } };
}

/// <summary>Runs code: an <see cref="IWorkflowNode"/>. Its outcome picks the transition; a throw fails it.</summary>
public sealed record ActionNodeDefinition : NodeDefinition
{
    internal ActionNodeDefinition(string name, string? implementation, Func<IServiceProvider, IWorkflowNode> factory)
        : base(name, new("Action", implementation))
    {
        Implementation = implementation;
        Factory = factory;
    }

    /// <summary>The implementing type's name (with an <see cref="IVersionedNode"/>'s key), or <c>delegate</c>; part of the definition's version.</summary>
    public string? Implementation { get; }

    internal Func<IServiceProvider, IWorkflowNode> Factory { get; }
}

/// <summary>
/// Parks the workflow in <c>Waiting(Approval)</c> until a human approves or rejects: <c>approved</c> follows
/// <see cref="NodeDefinition.Next"/>, <c>rejected</c> fails the workflow unless it has a transition of its own.
/// </summary>
public sealed record ApprovalNodeDefinition : NodeDefinition
{
    internal ApprovalNodeDefinition(string name, string prompt, Func<WorkflowRecord, string>? renderer)
        : base(name, new("Approval", Prompt: prompt), RetryPolicy.None)
    {
        Prompt = prompt;
        PromptRenderer = renderer;
    }

    /// <summary>What the human is asked, as written (a template when the definition renders it; see <see cref="WorkflowBuilder.Approval(string, string, Func{WorkflowRecord, string})"/>).</summary>
    public string Prompt { get; }

    internal Func<WorkflowRecord, string>? PromptRenderer { get; }

    /// <summary>Whether a rejection ends the workflow as Failed: there is no transition for it.</summary>
    internal bool RejectionFailsWorkflow => !Transitions.ContainsKey(WorkflowDefinition.Rejected);

    internal override bool CanEnd => base.CanEnd || RejectionFailsWorkflow;

    /// <summary>
    /// What the human is asked when <paramref name="workflow"/> parks at this approval: the rendered prompt, or the
    /// prompt as written when there is no renderer. A renderer that fails does not keep the workflow from parking
    /// (it could do nothing else but fail again): the prompt is shown as written, with what went wrong.
    /// </summary>
    internal string PromptFor(WorkflowRecord workflow)
    {
        if (PromptRenderer is null)
        {
            return Prompt;
        }

        try
        {
            return PromptRenderer(workflow) ?? Prompt;
        }
#pragma warning disable CA1031 // Whatever the renderer throws is shown to the human who decides, in the prompt itself.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            return $"{Prompt} (the prompt could not be rendered: {ex.Message})";
        }
    }
}

/// <summary>
/// Parks the workflow in <c>Waiting(Signal)</c> until the named signal arrives; its payload is the output. A signal
/// sent before the workflow got here waits in the store (<see cref="SignalRecord"/>) and is taken at once, the oldest
/// first. With a <see cref="NodeDefinition.Timeout"/>, the wait ends after that long with the outcome
/// <see cref="WorkflowDefinition.TimedOut"/>: its transition if it has one, else the node fails (<c>signal-timeout</c>).
/// </summary>
public sealed record SignalNodeDefinition : NodeDefinition
{
    internal SignalNodeDefinition(string name, string signalName)
        : base(name, new("Signal", Signal: signalName), RetryPolicy.None) => SignalName = signalName;

    /// <summary>The signal's name.</summary>
    public string SignalName { get; }

    /// <summary>Whether a timeout fails the node: it has a timeout and no transition for it.</summary>
    internal bool TimeoutFailsNode => Timeout is not null && !Transitions.ContainsKey(WorkflowDefinition.TimedOut);

    internal override bool CanEnd => base.CanEnd || TimeoutFailsNode;
}

/// <summary>
/// Sleeps, a durable timer: for a fixed time (<see cref="Delay"/>), or until a time worked out from the workflow when
/// the node starts (<see cref="Until"/>). The due time is stored with the workflow (<c>Waiting(Timer)</c>), so no
/// worker holds anything while it sleeps and whichever worker is running when it falls due wakes it, once.
/// </summary>
public sealed record DelayNodeDefinition : NodeDefinition
{
    internal DelayNodeDefinition(string name, TimeSpan delay)
        : base(name, new("Delay", Delay: delay), RetryPolicy.None) => Delay = delay;

    internal DelayNodeDefinition(string name, string until, Func<WorkflowRecord, DateTimeOffset> dueAt)
        : base(name, new("DelayUntil", Prompt: until), RetryPolicy.None)
    {
        Until = until;
        DueAt = dueAt;
    }

    /// <summary>How long the workflow sleeps (zero for a sleep <see cref="Until"/> a time).</summary>
    public TimeSpan Delay { get; }

    /// <summary>The time slept until, as written (a template when the definition renders it); null for a fixed delay.</summary>
    public string? Until { get; }

    internal Func<WorkflowRecord, DateTimeOffset>? DueAt { get; }

    /// <summary>When a workflow that reaches this node at <paramref name="now"/> wakes; a time in the past wakes it at once.</summary>
    internal DateTimeOffset WakeAt(WorkflowRecord workflow, DateTimeOffset now) =>
        StoreTime.Truncate(DueAt is null ? now + Delay : DueAt(workflow));
}

/// <summary>Starts a child workflow and waits for it; the child's output is the node's output, its failure the node's failure.</summary>
public sealed record SubWorkflowNodeDefinition : NodeDefinition
{
    internal SubWorkflowNodeDefinition(string name, string childType, Func<NodeContext, JsonElement?> childInput)
        : base(name, new("SubWorkflow", Child: childType))
    {
        ChildType = childType;
        ChildInput = childInput;
    }

    /// <summary>The child's workflow type.</summary>
    public string ChildType { get; }

    internal Func<NodeContext, JsonElement?> ChildInput { get; }
}

/// <summary>
/// A node kind's settings in the text a definition's version hashes. The layout is the one the first builds wrote,
/// field for field (a kind, an implementation, then a prompt, a signal, a child type and a delay, each empty when the
/// kind has none), so that every definition keeps its version: versions are stored with the workflows they start and
/// compared when a later build resumes them.
/// </summary>
internal readonly record struct NodeVersionText(string Kind, string? Implementation = null, string? Prompt = null, string? Signal = null, string? Child = null, TimeSpan? Delay = null);
