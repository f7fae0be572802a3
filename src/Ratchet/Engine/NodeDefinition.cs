using System.Text.Json;

namespace Ratchet.Engine;

/// <summary>One node of a <see cref="WorkflowDefinition"/>. Immutable once the definition is built.</summary>
public sealed class NodeDefinition
{
    private readonly Dictionary<string, string> _transitions = new(StringComparer.Ordinal);

    internal NodeDefinition(string name, NodeKind kind)
    {
        Name = name;
        Kind = kind;
    }

    /// <summary>The node's name, unique in its workflow.</summary>
    public string Name { get; }

    /// <summary>What the node does.</summary>
    public NodeKind Kind { get; }

    /// <summary>A short description for graphs and listings.</summary>
    public string? Description { get; internal set; }

    /// <summary>For an action: the implementing type's name, or <c>delegate</c>; part of the definition's version.</summary>
    public string? Implementation { get; internal set; }

    /// <summary>The node taken after success, or after an outcome that has no transition of its own; null ends the workflow.</summary>
    public string? Next { get; internal set; }

    /// <summary>Transitions by outcome (for approvals: <c>approved</c>, <c>rejected</c>).</summary>
    public IReadOnlyDictionary<string, string> Transitions => _transitions;

    /// <summary>The node taken when this one fails for good (retries exhausted); null fails the workflow.</summary>
    public string? FailureTarget { get; internal set; }

    /// <summary>Whether finishing this node ends the workflow as Failed (a failure path's last node) rather than Completed.</summary>
    public bool FailsWorkflow { get; internal set; }

    /// <summary>This node's retry policy; null uses the workflow's default.</summary>
    public RetryPolicy? Retry { get; internal set; }

    /// <summary>How long one attempt may run; null for no limit of its own.</summary>
    public TimeSpan? Timeout { get; internal set; }

    /// <summary>For an approval: what the human is asked, as written (a template when the definition renders it; see <see cref="WorkflowBuilder.Approval(string, string, Func{WorkflowRecord, string})"/>).</summary>
    public string? Prompt { get; internal set; }

    /// <summary>For a signal wait: the signal's name.</summary>
    public string? SignalName { get; internal set; }

    /// <summary>For a sub-workflow: the child's workflow type.</summary>
    public string? ChildType { get; internal set; }

    /// <summary>For a delay: how long.</summary>
    public TimeSpan? Delay { get; internal set; }

    internal Func<IServiceProvider, IWorkflowNode>? Factory { get; set; }

    internal Func<NodeContext, JsonElement?>? ChildInput { get; set; }

    internal Func<WorkflowRecord, string>? PromptRenderer { get; set; }

    /// <summary>
    /// What the human is asked when <paramref name="workflow"/> parks at this approval: the rendered prompt, or the
    /// prompt as written when there is no renderer. A renderer that fails does not keep the workflow from parking
    /// (it could do nothing else but fail again): the prompt is shown as written, with what went wrong.
    /// </summary>
    internal string? PromptFor(WorkflowRecord workflow)
    {
        if (PromptRenderer is null)
        {
            return Prompt;
        }

        try
        {
            return PromptRenderer(workflow);
        }
#pragma warning disable CA1031 // Whatever the renderer throws is shown to the human who decides, in the prompt itself.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            return $"{Prompt} (the prompt could not be rendered: {ex.Message})";
        }
    }

    internal void AddTransition(string outcome, string target) => _transitions[outcome] = target;

    /// <summary>Every node this one can lead to, end and failure paths included.</summary>
    public IEnumerable<string> Targets()
    {
        if (Next is not null)
        {
            yield return Next;
        }

        foreach (var target in _transitions.Values)
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
        var target = _transitions.TryGetValue(outcome, out var chosen) ? chosen : Next;
        return target == WorkflowDefinition.End ? null : target;
    }

    /// <summary>Whether some outcome of this node ends the workflow.</summary>
    internal bool CanEnd =>
        Next is null || Next == WorkflowDefinition.End || _transitions.ContainsValue(WorkflowDefinition.End) ||
        (Kind == NodeKind.Approval && !_transitions.ContainsKey(WorkflowDefinition.Rejected));
}
