using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace Ratchet.Engine;

/// <summary>
/// A workflow as a state machine of nodes: built by <see cref="WorkflowBuilder"/> (or compiled from YAML), validated,
/// immutable and thread-safe. <see cref="Version"/> is a hash of its shape, stored with every instance it starts.
/// </summary>
public sealed class WorkflowDefinition
{
    /// <summary>A transition target that ends the workflow (Completed).</summary>
    public const string End = "$end";

    /// <summary>The outcome of an approved approval node.</summary>
    public const string Approved = "approved";

    /// <summary>The outcome of a rejected approval node.</summary>
    public const string Rejected = "rejected";

    /// <summary>The outcome of a wait for a signal that ended at its timeout.</summary>
    public const string TimedOut = "timeout";

    private readonly Dictionary<string, NodeDefinition> _nodes;

    internal WorkflowDefinition(string name, string startNode, IReadOnlyList<NodeDefinition> nodes, RetryPolicy defaultRetry, TimeSpan? timeout, string? description, int? maxVisits = null, WorkflowQueue? queue = null)
    {
        MaxVisits = maxVisits;
        Queue = queue;
        Name = name;
        StartNode = startNode;
        Nodes = nodes;
        DefaultRetry = defaultRetry;
        Timeout = timeout;
        Description = description;
        _nodes = nodes.ToDictionary(n => n.Name, StringComparer.Ordinal);
        Version = ComputeVersion();
    }

    /// <summary>The definition's name: the type of the workflows it runs.</summary>
    public string Name { get; }

    /// <summary>A 12-hex-digit hash of the definition's shape (nodes, kinds, implementations, transitions, policies).</summary>
    public string Version { get; }

    /// <summary>The first node.</summary>
    public string StartNode { get; }

    /// <summary>The nodes, in the order they were declared.</summary>
    public IReadOnlyList<NodeDefinition> Nodes { get; }

    /// <summary>The retry policy of nodes that have none of their own.</summary>
    public RetryPolicy DefaultRetry { get; }

    /// <summary>How long a whole workflow may run, from its creation; null for no limit.</summary>
    public TimeSpan? Timeout { get; }

    /// <summary>A short description.</summary>
    public string? Description { get; }

    /// <summary>How many nodes one run may visit before it fails (see <see cref="WorkflowBuilder.MaxVisits"/>); null for the engine's <see cref="RatchetOptions.MaxVisits"/>.</summary>
    public int? MaxVisits { get; }

    /// <summary>The queue its workflows run in (see <see cref="WorkflowBuilder.Queue"/>); null for none.</summary>
    public WorkflowQueue? Queue { get; }

    /// <summary>A start request placed in the definition's queue, if it has one.</summary>
    internal Storage.NewWorkflow Place(Storage.NewWorkflow request) => Queue is null ? request : Queue.Place(request);

    /// <summary>The node with this name.</summary>
    /// <exception cref="KeyNotFoundException">There is none.</exception>
    public NodeDefinition this[string node] => _nodes.TryGetValue(node, out var found)
        ? found
        : throw new KeyNotFoundException($"Workflow '{Name}' (version {Version}) has no node '{node}'.");

    /// <summary>Whether the definition has a node of this name.</summary>
    public bool HasNode(string node) => _nodes.ContainsKey(node);

    /// <summary>The retry policy that applies to <paramref name="node"/>.</summary>
    public RetryPolicy RetryFor(NodeDefinition node)
    {
        ArgumentNullException.ThrowIfNull(node);
        return node.Retry ?? DefaultRetry;
    }

    /// <summary>The definition as a Mermaid flowchart.</summary>
    public string ToMermaid() => WorkflowGraph.ToMermaid(this);

    /// <summary>The definition as a Graphviz DOT digraph.</summary>
    public string ToDot() => WorkflowGraph.ToDot(this);

    private string ComputeVersion()
    {
        var text = new StringBuilder();
        text.Append(CultureInfo.InvariantCulture, $"workflow {Name} start {StartNode} timeout {Timeout?.Ticks} retry {Describe(DefaultRetry)}");

        // Only when set, so that every definition without a limit of its own keeps the version it had.
        text.Append(MaxVisits is { } visits ? string.Create(CultureInfo.InvariantCulture, $" visits {visits}\n") : "\n");
        foreach (var node in Nodes)
        {
            var own = node.VersionText;
            text.Append(CultureInfo.InvariantCulture,
                $"node {node.Name} {own.Kind} {own.Implementation} next {node.Next} fail {node.FailureTarget} failsWorkflow {node.FailsWorkflow} ");
            text.Append(CultureInfo.InvariantCulture,
                $"retry {Describe(node.Retry)} timeout {node.Timeout?.Ticks} prompt {own.Prompt} signal {own.Signal} child {own.Child} delay {own.Delay?.Ticks}");
            foreach (var (outcome, target) in node.Transitions.OrderBy(t => t.Key, StringComparer.Ordinal))
            {
                text.Append(CultureInfo.InvariantCulture, $" on {outcome}->{target}");
            }

            text.Append('\n');
        }

        return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text.ToString())))[..12];
    }

    private static string Describe(RetryPolicy? policy) => policy is null
        ? "-"
        : string.Create(CultureInfo.InvariantCulture, $"{policy.MaxAttempts}/{policy.InitialDelay.Ticks}/{policy.BackoffFactor}/{policy.MaxDelay.Ticks}/{policy.Jitter}");
}

/// <summary>A definition that failed validation; the message lists every problem at once.</summary>
public sealed class WorkflowDefinitionException(string workflow, IReadOnlyList<string> problems)
    : RatchetException($"Workflow definition '{workflow}' is invalid: {string.Join(" ", problems)}")
{
    /// <summary>The definition's name.</summary>
    public string Workflow { get; } = workflow;

    /// <summary>Each problem, as a sentence.</summary>
    public IReadOnlyList<string> Problems { get; } = problems;

    /// <inheritdoc />
    public override string ErrorCode => "invalid-definition";
}

/// <summary>A node was asked for by name (e.g. where to retry from) that the workflow's definition does not have.</summary>
public sealed class UnknownNodeException(string workflowType, string version, string node, IReadOnlyList<string> nodes)
    : RatchetException($"Workflow '{workflowType}' (version {version}) has no node '{node}'. Its nodes are: {string.Join(", ", nodes)}.")
{
    /// <summary>The workflow type whose definition was searched.</summary>
    public string WorkflowType { get; } = workflowType;

    /// <summary>The version of the definition searched.</summary>
    public string Version { get; } = version;

    /// <summary>The name asked for.</summary>
    public string Node { get; } = node;

    /// <summary>The definition's nodes, in the order they were declared.</summary>
    public IReadOnlyList<string> Nodes { get; } = nodes;

    /// <inheritdoc />
    public override string ErrorCode => "unknown-node";
}
