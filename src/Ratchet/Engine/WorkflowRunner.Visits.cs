using Ratchet.Storage;

namespace Ratchet.Engine;

public sealed partial class WorkflowRunner
{
    private static WorkflowError VisitLimitError(WorkflowRecord workflow, int limit) => new("visit-limit",
        $"Workflow '{workflow.Id}' visited {limit} nodes, the limit for one run: a loop whose exit never holds? Raise the limit (max_visits in a workflow file, MaxVisits in code) if it needs more; a retry starts a new count.");

    /// <summary>
    /// The attempt that began the run of attempts <paramref name="workflow"/>'s current one belongs to, which its retry
    /// policy counts from: 1, unless a retry began it (a retry goes on numbering the node's attempts, so that no
    /// idempotency key is used twice, yet gives it a full set of tries). Read from the audit trail, only for an attempt
    /// after the first.
    /// </summary>
    private async Task<int> FirstAttemptAsync(WorkflowRecord workflow)
    {
        if (workflow.Attempt <= 1 || workflow.CurrentNode is not { } node)
        {
            return 1;
        }

        var events = await _engine.Store.GetEventsAsync(workflow.Id, cancellationToken: CancellationToken.None);
        return Steps.FirstAttempt(events, node, workflow.Attempt);
    }

    /// <summary>
    /// Counts the nodes one run of a workflow visits (its node-started events since it was created or last retried), so
    /// that a loop whose exit never holds ends instead of growing the store. Nothing new is stored: every node start is
    /// in a commit that moves the record's version on, so the version bounds the count, and the audit trail is read only
    /// once a workflow has been committed more often than its limit; after that read, this runner counts on in memory.
    /// </summary>
    private sealed class VisitCounter(int limit)
    {
        private int? _visits;

        public int Limit { get; } = limit;

        /// <summary>Whether the visit of <paramref name="workflow"/>'s current node, whose start is committed, is one too many.</summary>
        public async ValueTask<bool> ExceededAsync(WorkflowRecord workflow, IWorkflowStore store)
        {
            if (_visits is { } counted)
            {
                // Each step this runner took since started exactly one node.
                _visits = counted + 1;
            }
            else if (workflow.Version <= Limit)
            {
                return false;
            }
            else
            {
                _visits = Count(await store.GetEventsAsync(workflow.Id, cancellationToken: CancellationToken.None));
            }

            return _visits > Limit;
        }

        private static int Count(IReadOnlyList<AuditEvent> events)
        {
            var visits = 0;
            for (var i = events.Count - 1; i >= 0 && events[i].Type != AuditEventTypes.Retried; i--)
            {
                if (events[i].Type == AuditEventTypes.NodeStarted)
                {
                    visits++;
                }
            }

            return visits;
        }
    }
}
