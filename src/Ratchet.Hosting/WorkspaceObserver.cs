using Ratchet.Engine;
using Ratchet.Storage;

namespace Ratchet.Hosting;

/// <summary>Marks a workflow's workspace Completed or Failed when the workflow ends.</summary>
internal sealed class WorkspaceObserver(IRatchetStore store) : IWorkflowObserver
{
    public async ValueTask OnEventAsync(WorkflowEvent workflowEvent, CancellationToken cancellationToken)
    {
        var status = workflowEvent.Kind switch
        {
            WorkflowEventKind.Completed => WorkspaceStatus.Completed,
            WorkflowEventKind.Failed or WorkflowEventKind.Cancelled => WorkspaceStatus.Failed,
            _ => (WorkspaceStatus?)null,
        };
        if (status is null || await store.GetWorkspaceAsync(workflowEvent.WorkflowId, cancellationToken) is not { } workspace)
        {
            return;
        }

        await store.CommitAsync(new ChangeSet().PutWorkspace(workspace with { Status = status.Value, HeartbeatAt = workflowEvent.At }), cancellationToken);
    }
}
