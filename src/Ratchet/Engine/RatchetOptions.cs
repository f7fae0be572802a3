namespace Ratchet.Engine;

/// <summary>Settings of an engine and its runners. Plain properties with documented defaults; checked by <see cref="Validate"/>.</summary>
public sealed class RatchetOptions
{
    /// <summary>How many workflows one runner executes at once. Default 64.</summary>
    public int MaxConcurrency { get; set; } = 64;

    /// <summary>
    /// How long a runner's claim on a workflow lasts without renewal: after a crash, other workers take the workflow
    /// over this long after the last renewal. Renewed every third of it. Default 30 seconds.
    /// </summary>
    public TimeSpan LeaseDuration { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// How often a runner looks for due work it was not told about: other processes' work, expired leases.
    /// A safety net: work started or woken in the same process runs at once. Default 1 second.
    /// </summary>
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>
    /// How long a node's command may take to exit after it was asked to stop (cancel, lease lost, shutdown, timeout:
    /// SIGTERM to its process group) before it is killed (SIGKILL). Also how long a new owner gives a dead worker's
    /// leftover command before killing it. Default 10 seconds.
    /// </summary>
    public TimeSpan StopGracePeriod { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// How often a runner checks that the nodes it runs are still its own to run: a workflow cancelled by another
    /// process, a lease taken over or not renewed in time, stops its node within about this long. Only nodes that have
    /// run this long are checked, one read each. Default 1 second; a third of <see cref="LeaseDuration"/> when that is shorter.
    /// </summary>
    public TimeSpan OwnershipCheckInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>
    /// How many times a runner tries one commit when the store has trouble that may pass (unreachable, locked, failing
    /// over), pausing <see cref="CommitRetryDelay"/> and then twice as long each time (up to 5 s), before it gives the
    /// workflow up as it was last committed (resumable) and reports the error. Also how many polls in a row may fail
    /// before <c>RunUntilIdleAsync</c> ends with the store's error. Default 5.
    /// </summary>
    public int CommitAttempts { get; set; } = 5;

    /// <summary>The first pause before a commit is tried again; see <see cref="CommitAttempts"/>. Default 200 ms.</summary>
    public TimeSpan CommitRetryDelay { get; set; } = TimeSpan.FromMilliseconds(200);

    /// <summary>An active workspace whose heartbeat is older than this, with nobody holding its workflow, is orphaned. Default 10 minutes.</summary>
    public TimeSpan WorkspaceOrphanAfter { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>
    /// The runner's identity in leases; default <see cref="WorkerIdentity.NewOwnerId"/> (host, pid, the kernel's start time of
    /// the process, boot id, a random part), which lets other processes of the machine tell for certain whether it still
    /// runs. A custom id cannot be checked that way: its leases are always waited out.
    /// </summary>
    public string? WorkerId { get; set; }

    /// <summary>
    /// How long a chain of triggered workflows may grow (A starts B starts C ...): a trigger that would start a workflow
    /// deeper than this is skipped and audited instead, so a cycle of triggers cannot run forever. Default 10.
    /// </summary>
    public int MaxTriggerChainDepth { get; set; } = 10;

    /// <summary>
    /// How many nodes one run of a workflow may visit (every node that starts counts, retries included) before it fails
    /// as a loop whose exit never holds, for definitions that do not set their own (<see cref="WorkflowBuilder.MaxVisits"/>).
    /// A retry starts a new count. Default 1000.
    /// </summary>
    public int MaxVisits { get; set; } = 1000;

    /// <summary>How long the engine uses the triggers it read before reading them again (they may change in another process). Default 1 second.</summary>
    public TimeSpan TriggerRefreshInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>Every problem, as sentences; empty when usable.</summary>
    public IReadOnlyList<string> Validate()
    {
        var problems = new List<string>();
        if (MaxConcurrency is < 1 or > 100_000)
        {
            problems.Add($"MaxConcurrency is {MaxConcurrency}; it must be between 1 and 100000.");
        }

        if (LeaseDuration < TimeSpan.FromSeconds(1))
        {
            problems.Add($"LeaseDuration is {LeaseDuration}; it must be at least 1 second.");
        }

        if (PollInterval <= TimeSpan.Zero)
        {
            problems.Add($"PollInterval is {PollInterval}; it must be positive.");
        }

        if (StopGracePeriod < TimeSpan.Zero)
        {
            problems.Add($"StopGracePeriod is {StopGracePeriod}; it cannot be negative.");
        }

        if (CommitAttempts < 1)
        {
            problems.Add($"CommitAttempts is {CommitAttempts}; it must be at least 1.");
        }

        if (CommitRetryDelay < TimeSpan.Zero)
        {
            problems.Add($"CommitRetryDelay is {CommitRetryDelay}; it cannot be negative.");
        }

        if (OwnershipCheckInterval <= TimeSpan.Zero)
        {
            problems.Add($"OwnershipCheckInterval is {OwnershipCheckInterval}; it must be positive.");
        }

        if (WorkspaceOrphanAfter <= TimeSpan.Zero)
        {
            problems.Add($"WorkspaceOrphanAfter is {WorkspaceOrphanAfter}; it must be positive.");
        }

        if (MaxTriggerChainDepth < 1)
        {
            problems.Add($"MaxTriggerChainDepth is {MaxTriggerChainDepth}; it must be at least 1.");
        }

        if (MaxVisits < 1)
        {
            problems.Add($"MaxVisits is {MaxVisits}; it must be at least 1.");
        }

        if (TriggerRefreshInterval < TimeSpan.Zero)
        {
            problems.Add($"TriggerRefreshInterval is {TriggerRefreshInterval}; it cannot be negative.");
        }

        if (WorkerId is { Length: 0 or > 200 })
        {
            problems.Add("WorkerId must be 1 to 200 characters, or unset for the default.");
        }

        return problems;
    }

    internal RatchetOptions Clone() => (RatchetOptions)MemberwiseClone();
}
