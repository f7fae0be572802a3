using Microsoft.Extensions.Logging;
using Ratchet.Engine;

namespace Ratchet;

/// <summary>The core's log messages. Event ids: 1000–1099 engine, 1100–1199 runner, 1200–1299 observers.</summary>
internal static partial class Log
{
    [LoggerMessage(EventId = 1000, Level = LogLevel.Information, Message = "Started workflow {WorkflowId} of type {WorkflowType}")]
    public static partial void WorkflowStarted(ILogger logger, string workflowId, string workflowType);

    [LoggerMessage(EventId = 1001, Level = LogLevel.Warning, Message = "Workflow {WorkflowId} started with version {StartedVersion} of {WorkflowType}; continuing with version {CurrentVersion}, which has its current node")]
    public static partial void DefinitionChanged(ILogger logger, string workflowId, string workflowType, string startedVersion, string currentVersion);

    [LoggerMessage(EventId = 1002, Level = LogLevel.Information, Message = "Cancelled workflow {WorkflowId}: {Reason}")]
    public static partial void WorkflowCancelled(ILogger logger, string workflowId, string reason);

    [LoggerMessage(EventId = 1003, Level = LogLevel.Information, Message = "Forked workflow {WorkflowId} from node {Node} as {ForkId}")]
    public static partial void WorkflowForked(ILogger logger, string workflowId, string node, string forkId);

    [LoggerMessage(EventId = 1050, Level = LogLevel.Information, Message = "Buffered signal {Signal} for workflow {WorkflowId}, which does not wait for it yet")]
    public static partial void SignalBuffered(ILogger logger, string workflowId, string signal);

    [LoggerMessage(EventId = 1100, Level = LogLevel.Warning, Message = "Node {Node} of workflow {WorkflowId} failed on attempt {Attempt}")]
    public static partial void NodeFailed(ILogger logger, string workflowId, string node, int attempt, Exception exception);

    [LoggerMessage(EventId = 1101, Level = LogLevel.Information, Message = "Retrying node {Node} of workflow {WorkflowId} as attempt {Attempt} at {DueAt}")]
    public static partial void RetryScheduled(ILogger logger, string workflowId, string node, int attempt, DateTimeOffset dueAt);

    [LoggerMessage(EventId = 1102, Level = LogLevel.Warning, Message = "Lost workflow {WorkflowId} to another writer; this worker stops running it")]
    public static partial void LostOwnership(ILogger logger, string workflowId, Exception exception);

    [LoggerMessage(EventId = 1103, Level = LogLevel.Information, Message = "Recovered workflow {WorkflowId}: node {Node} was interrupted and runs again as attempt {Attempt}")]
    public static partial void Recovered(ILogger logger, string workflowId, string node, int attempt);

    [LoggerMessage(EventId = 1104, Level = LogLevel.Information, Message = "Recovery of worker {Owner}: {Resumed} interrupted workflows resumed, {Claimed} due workflows claimed, {Orphaned} orphaned workspaces marked")]
    public static partial void RecoverySummary(ILogger logger, string owner, int resumed, int claimed, int orphaned);

    [LoggerMessage(EventId = 1105, Level = LogLevel.Warning, Message = "Runner {Owner} could not reach the store; it keeps trying, less and less often, and says when the store answers again")]
    public static partial void StoreTrouble(ILogger logger, string owner, Exception exception);

    [LoggerMessage(EventId = 1106, Level = LogLevel.Error, Message = "Workflow {WorkflowId} stopped where it was last committed (it can be resumed): the store failed under it")]
    public static partial void ExecutionFailed(ILogger logger, string workflowId, Exception exception);

    [LoggerMessage(EventId = 1113, Level = LogLevel.Warning, Message = "Runner {Owner}: the store answers again")]
    public static partial void StoreBack(ILogger logger, string owner);

    [LoggerMessage(EventId = 1107, Level = LogLevel.Information, Message = "Runner {Owner} started with up to {MaxConcurrency} workflows at once")]
    public static partial void RunnerStarted(ILogger logger, string owner, int maxConcurrency);

    [LoggerMessage(EventId = 1108, Level = LogLevel.Information, Message = "Runner {Owner} stopped; {Released} leases released")]
    public static partial void RunnerStopped(ILogger logger, string owner, int released);

    [LoggerMessage(EventId = 1109, Level = LogLevel.Warning, Message = "Workflow {WorkflowId}: this worker may no longer run it ({Reason}); its node was stopped and nothing was committed")]
    public static partial void LeaseLost(ILogger logger, string workflowId, string reason);

    [LoggerMessage(EventId = 1110, Level = LogLevel.Warning, Message = "Workflow {WorkflowId}: node {Node} attempt {Attempt} left {Group} running when its worker died; it was stopped before the node runs again")]
    public static partial void LeftoverProcessStopped(ILogger logger, string workflowId, string node, int attempt, string group);

    [LoggerMessage(EventId = 1111, Level = LogLevel.Warning, Message = "Workflow {WorkflowId}: node {Node} attempt {Attempt} ran in {Group}, which cannot be checked from this machine; its lease has lapsed, so it runs again here")]
    public static partial void RemoteProcessGroup(ILogger logger, string workflowId, string node, int attempt, string group);

    [LoggerMessage(EventId = 1112, Level = LogLevel.Warning, Message = "Workflow {WorkflowId}: commit try {Attempt} failed; trying again in {Delay}")]
    public static partial void CommitRetrying(ILogger logger, string workflowId, int attempt, TimeSpan delay, Exception exception);

    [LoggerMessage(EventId = 1200, Level = LogLevel.Error, Message = "Observer {Observer} failed on {Kind} of workflow {WorkflowId}; the workflow goes on")]
    public static partial void ObserverFailed(ILogger logger, string observer, WorkflowEventKind kind, string workflowId, Exception exception);

    [LoggerMessage(EventId = 1300, Level = LogLevel.Information, Message = "Trigger {Trigger} on workflow {WorkflowId} started {TargetId} of type {TargetType}")]
    public static partial void TriggerFired(ILogger logger, string trigger, string workflowId, string targetId, string targetType);

    [LoggerMessage(EventId = 1301, Level = LogLevel.Warning, Message = "Trigger {Trigger} on workflow {WorkflowId} failed: {Problem}")]
    public static partial void TriggerFailed(ILogger logger, string trigger, string workflowId, string problem);

    [LoggerMessage(EventId = 1302, Level = LogLevel.Warning, Message = "Trigger {Trigger} on workflow {WorkflowId} skipped: the chain would reach depth {Depth}")]
    public static partial void TriggerSkipped(ILogger logger, string trigger, string workflowId, int depth);

    [LoggerMessage(EventId = 1303, Level = LogLevel.Error, Message = "Trigger {Trigger} is stored damaged and is ignored: {Problem}")]
    public static partial void TriggerUnusable(ILogger logger, string trigger, string problem);

    [LoggerMessage(EventId = 1400, Level = LogLevel.Warning, Message = "Workflow {WorkflowId} is run by phases, and this engine has no IPhaseNodeFactory to run its phase {Phase}; it is left to one that has")]
    public static partial void PhaseNotRunnable(ILogger logger, string workflowId, string phase);
}
