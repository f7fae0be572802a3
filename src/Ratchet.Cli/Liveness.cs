using Ratchet.Engine;

namespace Ratchet.Cli;

/// <summary>
/// Whether someone runs a workflow now, in words for listings: running (owner, lease) or interrupted (nobody runs it
/// any more, so it waits for <c>ratchet resume</c> or a worker). Only a store's record is needed, plus, for owners of
/// this machine, a look at whether their process still runs.
/// </summary>
internal static class Liveness
{
    /// <summary>An owner id as a reader wants it: <c>pid 1234 on host</c>, or the id itself when it is of another form.</summary>
    public static string DescribeOwner(string owner) =>
        WorkerIdentity.TryParse(owner, out var identity) ? identity.ToString() : owner;

    /// <summary>How an active workflow stands; null for terminal and parked workflows, whose status says it all.</summary>
    public static string? Describe(WorkflowRecord workflow, DateTimeOffset now)
    {
        if (workflow.Status is not (WorkflowStatus.Running or WorkflowStatus.Pending) &&
            workflow is not { Status: WorkflowStatus.Waiting, WaitReason: WaitReason.Timer or WaitReason.Interrupted, LeaseOwner: not null })
        {
            return null;
        }

        if (workflow.LeaseOwner is { } owner && workflow.LeaseExpiresAt > now)
        {
            return WorkerIdentity.Liveness(owner) == OwnerLiveness.Dead
                ? $"interrupted: {DescribeOwner(owner)} is gone; `ratchet resume {workflow.Id}` takes it over"
                : $"running in {DescribeOwner(owner)}, lease until {workflow.LeaseExpiresAt.Value.ToLocalTime():HH:mm:ss}";
        }

        if (workflow.Status == WorkflowStatus.Running && workflow.Attempt > 0)
        {
            var since = workflow.LeaseOwner is { } last ? $"{DescribeOwner(last)} stopped renewing its lease" : "nobody holds it";
            return $"interrupted: {since}; `ratchet resume {workflow.Id}` or a worker runs it on";
        }

        return workflow.Status == WorkflowStatus.Pending ? null : "ready: due, no worker has taken it yet";
    }
}
