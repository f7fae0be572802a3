namespace Ratchet.Engine;

/// <summary>
/// A step of a workflow. A node may run more than once (a retry, or again after a crash), so side effects should use
/// <see cref="NodeContext.IdempotencyKey"/>; its result is committed exactly once.
/// </summary>
public interface IWorkflowNode
{
    /// <summary>Does the node's work and returns its output and outcome. Throw to fail it.</summary>
    Task<NodeResult> ExecuteAsync(NodeContext context, CancellationToken cancellationToken);
}

/// <summary>
/// A node whose behaviour depends on how the instance is configured (a command line, a template), not only on its
/// type: its <see cref="VersionKey"/> goes into the definition's version, so that a running workflow keeps the
/// definition it started with when the configuration changes.
/// </summary>
public interface IVersionedNode : IWorkflowNode
{
    /// <summary>A stable text that changes whenever the node would behave differently.</summary>
    string VersionKey { get; }
}

/// <summary>A node made of a delegate.</summary>
internal sealed class DelegateNode(Func<NodeContext, CancellationToken, Task<NodeResult>> execute) : IWorkflowNode
{
    public Task<NodeResult> ExecuteAsync(NodeContext context, CancellationToken cancellationToken) => execute(context, cancellationToken);
}
