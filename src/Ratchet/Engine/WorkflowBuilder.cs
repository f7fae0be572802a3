using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;

namespace Ratchet.Engine;

/// <summary>
/// Builds a <see cref="WorkflowDefinition"/> in code. Nodes are added in order; the first is the start unless
/// <see cref="StartAt"/> says otherwise. A node without <c>Then</c> ends the workflow.
/// </summary>
/// <example>
/// <code>
/// var definition = new WorkflowBuilder("issue-implementation")
///     .Node&lt;AnalyzeIssue&gt;("Analyzing").Then("Planning").OnFailure("Failed")
///     .Node&lt;WritePlan&gt;("Planning").Then("Review")
///     .Approval("Review", "Approve the plan?").Then("Implementing").On("rejected", "Planning")
///     .Node&lt;Implement&gt;("Implementing").WithRetry(new RetryPolicy { MaxAttempts = 5 })
///     .Node("Failed", (ctx, ct) =&gt; Task.FromResult(NodeResult.Success())).FailsWorkflow()
///     .Build();
/// </code>
/// </example>
public sealed class WorkflowBuilder
{
    private readonly string _name;
    private readonly List<NodeDefinition> _nodes = [];
    private string? _start;
    private RetryPolicy _defaultRetry = RetryPolicy.Default;
    private TimeSpan? _timeout;
    private int? _maxVisits;
    private WorkflowQueue? _queue;
    private string? _description;

    /// <summary>Starts a definition named <paramref name="name"/> (the workflow type).</summary>
    public WorkflowBuilder(string name)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        _name = name;
    }


    /// <summary>Adds an action node implemented by <typeparamref name="TNode"/>, resolved from the engine's services (or created with them).</summary>
    public WorkflowBuilder Node<TNode>(string name) where TNode : class, IWorkflowNode =>
        Add(new ActionNodeDefinition(name, typeof(TNode).FullName, static services => ActivatorUtilities.GetServiceOrCreateInstance<TNode>(services)));

    /// <summary>Adds an action node that runs <paramref name="node"/> (one shared instance).</summary>
    public WorkflowBuilder Node(string name, IWorkflowNode node)
    {
        ArgumentNullException.ThrowIfNull(node);
        var implementation = node is IVersionedNode versioned ? $"{node.GetType().FullName}:{versioned.VersionKey}" : node.GetType().FullName;
        return Add(new ActionNodeDefinition(name, implementation, _ => node));
    }

    /// <summary>Adds an action node that runs a delegate.</summary>
    public WorkflowBuilder Node(string name, Func<NodeContext, CancellationToken, Task<NodeResult>> execute)
    {
        ArgumentNullException.ThrowIfNull(execute);
        var node = new DelegateNode(execute);
        return Add(new ActionNodeDefinition(name, "delegate", _ => node));
    }

    /// <summary>Adds an approval node: the workflow waits for a human; <c>approved</c> follows <c>Then</c>, <c>rejected</c> fails it unless <c>On("rejected", …)</c> says otherwise.</summary>
    public WorkflowBuilder Approval(string name, string prompt)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(prompt);
        return Add(new ApprovalNodeDefinition(name, prompt, renderer: null));
    }

    /// <summary>
    /// Adds an approval node whose prompt is rendered from the workflow as it is when it parks there (its input, the
    /// artifacts of the nodes before it): what <paramref name="render"/> returns is what the human is asked, in the
    /// <c>waiting</c> audit event's <c>prompt</c> and the observers' waiting event.
    /// </summary>
    /// <param name="name">The node's name.</param>
    /// <param name="prompt">The prompt as written (a template): part of the definition's version, shown in graphs.</param>
    /// <param name="render">Renders the prompt from the workflow. If it throws, the prompt is shown as written, with the error.</param>
    public WorkflowBuilder Approval(string name, string prompt, Func<WorkflowRecord, string> render)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(prompt);
        ArgumentNullException.ThrowIfNull(render);
        return Add(new ApprovalNodeDefinition(name, prompt, render));
    }

    /// <summary>Adds a node that waits for the signal <paramref name="signalName"/>; the signal's payload is its output.</summary>
    public WorkflowBuilder WaitForSignal(string name, string signalName)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(signalName);
        return Add(new SignalNodeDefinition(name, signalName));
    }

    /// <summary>
    /// Adds a node that waits for the signal <paramref name="signalName"/> at most <paramref name="timeout"/>: then it
    /// takes the outcome <see cref="WorkflowDefinition.TimedOut"/> (give it a transition with <see cref="On"/>), or
    /// fails with <c>signal-timeout</c> when it has none.
    /// </summary>
    public WorkflowBuilder WaitForSignal(string name, string signalName, TimeSpan timeout)
    {
        if (timeout <= TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(timeout), timeout, "A signal's timeout must be positive.");
        }

        return WaitForSignal(name, signalName).Update(node => node with { Timeout = timeout });
    }

    /// <summary>Adds a node that runs a child workflow of type <paramref name="childType"/> and waits for it.</summary>
    /// <param name="name">The node's name.</param>
    /// <param name="childType">The child's workflow type; must be registered with the engine that runs it.</param>
    /// <param name="input">Builds the child's input from the parent's context; null passes the parent's input.</param>
    public WorkflowBuilder SubWorkflow(string name, string childType, Func<NodeContext, object?>? input = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(childType);
        return Add(new SubWorkflowNodeDefinition(name, childType,
            input is null ? static ctx => ctx.Input : ctx => input(ctx) is { } value ? NodeResult.ToJson(value) : null));
    }

    /// <summary>Adds a durable sleep of <paramref name="delay"/>.</summary>
    public WorkflowBuilder Delay(string name, TimeSpan delay) =>
        delay < TimeSpan.Zero
            ? throw new ArgumentOutOfRangeException(nameof(delay), delay, "A delay cannot be negative.")
            : Add(new DelayNodeDefinition(name, delay));

    /// <summary>
    /// Adds a durable sleep until a time worked out from the workflow when it reaches the node (its input, the
    /// artifacts before it); a time already past wakes it at once. If <paramref name="dueAt"/> throws, the node fails
    /// with what it threw.
    /// </summary>
    /// <param name="name">The node's name.</param>
    /// <param name="until">The time as written (a template, say): part of the definition's version, shown in graphs.</param>
    /// <param name="dueAt">Works the time out from the workflow.</param>
    public WorkflowBuilder DelayUntil(string name, string until, Func<WorkflowRecord, DateTimeOffset> dueAt)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(until);
        ArgumentNullException.ThrowIfNull(dueAt);
        return Add(new DelayNodeDefinition(name, until, dueAt));
    }

    /// <summary>After the current node succeeds, go to <paramref name="target"/> (or <see cref="WorkflowDefinition.End"/>).</summary>
    public WorkflowBuilder Then(string target)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(target);
        return Update(node => node with { Next = target });
    }

    /// <summary>When the current node returns <paramref name="outcome"/>, go to <paramref name="target"/>.</summary>
    public WorkflowBuilder On(string outcome, string target)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(outcome);
        ArgumentException.ThrowIfNullOrWhiteSpace(target);
        return Update(node => node.WithTransition(outcome, target));
    }

    /// <summary>When the current node fails for good, go to <paramref name="target"/> instead of failing the workflow.</summary>
    public WorkflowBuilder OnFailure(string target)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(target);
        return Update(node => node with { FailureTarget = target });
    }

    /// <summary>Finishing the current node ends the workflow as Failed: the last node of a failure path.</summary>
    public WorkflowBuilder FailsWorkflow()
    {
        return Update(static node => node with { FailsWorkflow = true });
    }

    /// <summary>The current node's retry policy.</summary>
    public WorkflowBuilder WithRetry(RetryPolicy policy)
    {
        ArgumentNullException.ThrowIfNull(policy);
        return Update(node => node with { Retry = policy });
    }

    /// <summary>How long one attempt of the current node may run.</summary>
    public WorkflowBuilder WithTimeout(TimeSpan timeout)
    {
        if (timeout <= TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(timeout), timeout, "A node timeout must be positive.");
        }

        return Update(node => node with { Timeout = timeout });
    }

    /// <summary>A description of the current node.</summary>
    public WorkflowBuilder Describe(string description)
    {
        return Update(node => node with { Description = description });
    }

    /// <summary>Starts at <paramref name="node"/> instead of the first node added.</summary>
    public WorkflowBuilder StartAt(string node)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(node);
        _start = node;
        return this;
    }

    /// <summary>The retry policy of nodes without their own. Default <see cref="RetryPolicy.Default"/>.</summary>
    public WorkflowBuilder DefaultRetry(RetryPolicy policy)
    {
        ArgumentNullException.ThrowIfNull(policy);
        _defaultRetry = policy;
        return this;
    }

    /// <summary>How long a whole workflow may run from its creation.</summary>
    public WorkflowBuilder Timeout(TimeSpan timeout)
    {
        if (timeout <= TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(timeout), timeout, "A workflow timeout must be positive.");
        }

        _timeout = timeout;
        return this;
    }

    /// <summary>
    /// How many nodes one run of a workflow may visit (every node that starts counts, a retry's attempts included)
    /// before it fails as a loop whose exit never holds; a <c>retry</c> starts a new count. Default
    /// <see cref="RatchetOptions.MaxVisits"/>.
    /// </summary>
    public WorkflowBuilder MaxVisits(int visits)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(visits, 1);
        _maxVisits = visits;
        return this;
    }

    /// <summary>
    /// Runs the workflows in a named queue: a store leases one only while the queue's limits (concurrency across all
    /// workers, per worker, rate, one at a time per partition) leave room, highest priority first.
    /// </summary>
    public WorkflowBuilder Queue(WorkflowQueue queue)
    {
        ArgumentNullException.ThrowIfNull(queue);
        WorkflowIds.Validate(queue.Name, nameof(queue));
        if (queue.Limits is { } limits)
        {
            queue = queue with { Limits = limits with { Name = queue.Name } };
            queue.Limits.Validate();
        }

        _queue = queue;
        return this;
    }

    /// <summary>A description of the workflow.</summary>
    public WorkflowBuilder Description(string description)
    {
        _description = description;
        return this;
    }

    /// <summary>Validates and builds the definition.</summary>
    /// <exception cref="WorkflowDefinitionException">Unknown targets, duplicate or unreachable nodes, nodes that can never end, bad policies: all listed.</exception>
    public WorkflowDefinition Build()
    {
        var problems = new List<string>();
        if (_nodes.Count == 0)
        {
            throw new WorkflowDefinitionException(_name, ["It has no nodes; add at least one."]);
        }

        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (var node in _nodes)
        {
            if (!names.Add(node.Name))
            {
                problems.Add($"Node '{node.Name}' is declared twice; node names must be unique.");
            }

            if (node.Name.StartsWith('$'))
            {
                problems.Add($"Node '{node.Name}' starts with '$', which is kept for targets such as {WorkflowDefinition.End}.");
            }
        }

        var start = _start ?? _nodes[0].Name;
        if (!names.Contains(start))
        {
            problems.Add($"The start node '{start}' does not exist.");
        }

        foreach (var node in _nodes)
        {
            foreach (var target in node.Targets().Distinct(StringComparer.Ordinal))
            {
                if (target != WorkflowDefinition.End && !names.Contains(target))
                {
                    problems.Add($"Node '{node.Name}' leads to '{target}', which is not a node{Suggest(target, names)}.");
                }
            }

            problems.AddRange(_defaultRetry.Problems($"Workflow '{_name}' default retry"));
            if (node.Retry is { } retry)
            {
                problems.AddRange(retry.Problems($"Node '{node.Name}'"));
            }
        }

        CheckGraph(start, problems);

        if (problems.Count > 0)
        {
            throw new WorkflowDefinitionException(_name, problems.Distinct().ToArray());
        }

        return new WorkflowDefinition(_name, start, _nodes.ToArray(), _defaultRetry, _timeout, _description, _maxVisits, _queue);
    }

    /// <summary>Reachability and ways out; runs even when other problems were found, skipping unknown targets, so that every problem is listed at once.</summary>
    private void CheckGraph(string start, List<string> problems)
    {
        var byName = new Dictionary<string, NodeDefinition>(StringComparer.Ordinal);
        foreach (var node in _nodes)
        {
            byName.TryAdd(node.Name, node);
        }

        if (!byName.ContainsKey(start))
        {
            return;
        }

        var reachable = new HashSet<string>(StringComparer.Ordinal);
        var pending = new Stack<string>([start]);
        while (pending.TryPop(out var name))
        {
            if (!byName.TryGetValue(name, out var node) || !reachable.Add(name))
            {
                continue;
            }

            foreach (var target in node.Targets())
            {
                pending.Push(target);
            }
        }

        // A misspelt target is reported once, not again as the consequences of the typo: the node it was probably meant
        // to name is not "unreachable", and the node with the typo is not "without a way out".
        bool Unknown(string target) => target != WorkflowDefinition.End && !byName.ContainsKey(target);
        var meant = byName.Values.SelectMany(n => n.Targets()).Where(Unknown)
            .Select(t => byName.Keys.FirstOrDefault(k => string.Equals(k, t, StringComparison.OrdinalIgnoreCase)))
            .OfType<string>().ToHashSet(StringComparer.Ordinal);
        foreach (var node in byName.Values.Where(n => !reachable.Contains(n.Name) && !meant.Contains(n.Name)))
        {
            problems.Add($"Node '{node.Name}' is unreachable from the start node '{start}'; connect it or remove it.");
        }

        // Walk backwards from the nodes that can end: whatever cannot get there loops forever.
        var canFinish = new HashSet<string>(byName.Values.Where(n => n.CanEnd || n.Targets().Any(Unknown)).Select(n => n.Name), StringComparer.Ordinal);
        bool grew;
        do
        {
            grew = false;
            foreach (var node in byName.Values.Where(n => !canFinish.Contains(n.Name)))
            {
                if (node.Targets().Any(canFinish.Contains))
                {
                    canFinish.Add(node.Name);
                    grew = true;
                }
            }
        }
        while (grew);

        foreach (var node in byName.Values.Where(n => reachable.Contains(n.Name) && !canFinish.Contains(n.Name)))
        {
            problems.Add($"Node '{node.Name}' has no path to an end: every way from it loops. Give one of its nodes a way out.");
        }
    }

    /// <summary>Replaces the node being configured, the last one added, with <paramref name="change"/> of it.</summary>
    private WorkflowBuilder Update(Func<NodeDefinition, NodeDefinition> change)
    {
        if (_nodes.Count == 0)
        {
            throw new InvalidOperationException("Add a node before configuring one.");
        }

        _nodes[^1] = change(_nodes[^1]);
        return this;
    }

    private WorkflowBuilder Add(NodeDefinition node)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(node.Name);
        _nodes.Add(node);
        return this;
    }

    private static string Suggest(string target, IEnumerable<string> names)
    {
        var close = names.FirstOrDefault(n => string.Equals(n, target, StringComparison.OrdinalIgnoreCase));
        return close is null ? "" : $" (did you mean '{close}'?)";
    }
}
