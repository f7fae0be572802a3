namespace Ratchet.Storage;

/// <summary>
/// The storage contract: every backend (SQLite, PostgreSQL, Redis, files) implements all of it and passes the
/// conformance suite. Split into roles so that a component asks only for what it uses.
/// </summary>
/// <remarks>
/// Stores translate their drivers' errors into <see cref="RatchetException"/>s; callers never see a driver exception.
/// Every method is safe to call from many threads at once.
/// </remarks>
public interface IRatchetStore : IWorkflowStore, IKeyValueStore, ILeaseStore, IStoreMaintenance, IAsyncDisposable
{
    /// <summary>A description for messages, such as <c>sqlite:.ratchet/ratchet.db</c>; never contains a password.</summary>
    string Description { get; }
}

/// <summary>Workflows, their journals, audit events, commands and workspaces.</summary>
public interface IWorkflowStore
{
    /// <summary>
    /// Applies every write of <paramref name="changes"/> atomically, or none. Completes only once the writes are as
    /// durable as the store promises (on SQLite with <c>synchronous=FULL</c>: fsynced).
    /// </summary>
    /// <exception cref="WorkflowConcurrencyException">An update or check found another version.</exception>
    /// <exception cref="WorkflowAlreadyExistsException">A create found the id taken.</exception>
    /// <exception cref="WorkflowNotFoundException">An update, check, step, event, command or workspace names a missing workflow.</exception>
    /// <exception cref="KeyValueConcurrencyException">A conditional key-value write found another version.</exception>
    /// <exception cref="SignalConflictException">A consumed signal was not pending, or a signal expected not to be pending was.</exception>
    Task CommitAsync(ChangeSet changes, CancellationToken cancellationToken = default);

    /// <summary>The workflow with this id, archived or not; null if there is none.</summary>
    Task<WorkflowRecord?> GetWorkflowAsync(string id, CancellationToken cancellationToken = default);

    /// <summary>One page of workflows matching <paramref name="query"/>.</summary>
    Task<WorkflowPage> ListWorkflowsAsync(WorkflowQuery query, CancellationToken cancellationToken = default);

    /// <summary>
    /// Non-terminal, unarchived workflows whose due time is at or before <paramref name="asOf"/>, earliest first,
    /// leased or not.
    /// </summary>
    Task<IReadOnlyList<WorkflowRecord>> GetDueWorkflowsAsync(DateTimeOffset asOf, int limit, CancellationToken cancellationToken = default);

    /// <summary>The workflow's journal, in sequence order.</summary>
    Task<IReadOnlyList<StepRecord>> GetStepsAsync(string workflowId, CancellationToken cancellationToken = default);

    /// <summary>Up to <paramref name="limit"/> audit events of the workflow with a sequence above <paramref name="afterSequence"/>, in order.</summary>
    Task<IReadOnlyList<AuditEvent>> GetEventsAsync(string workflowId, long afterSequence = 0, int limit = int.MaxValue, CancellationToken cancellationToken = default);

    /// <summary>The commands the workflow's nodes ran, in order.</summary>
    Task<IReadOnlyList<CommandExecution>> GetCommandsAsync(string workflowId, CancellationToken cancellationToken = default);

    /// <summary>
    /// The signals buffered for the workflow and not consumed yet, in sequence order (the order they were sent); empty
    /// if there are none (or no such workflow).
    /// </summary>
    Task<IReadOnlyList<SignalRecord>> GetPendingSignalsAsync(string workflowId, CancellationToken cancellationToken = default);

    /// <summary>The workflow's workspace; null if it has none.</summary>
    Task<WorkspaceRecord?> GetWorkspaceAsync(string workflowId, CancellationToken cancellationToken = default);

    /// <summary>Workspaces, all or only those in <paramref name="status"/>, ordered by workflow id.</summary>
    Task<IReadOnlyList<WorkspaceRecord>> ListWorkspacesAsync(WorkspaceStatus? status = null, CancellationToken cancellationToken = default);
}

/// <summary>Namespaced key-value state and named checkpoints of a namespace. Saves and deletes go through change sets.</summary>
public interface IKeyValueStore
{
    /// <summary>The entry under <paramref name="key"/>; null if there is none.</summary>
    Task<KeyValueEntry?> GetValueAsync(string @namespace, string key, CancellationToken cancellationToken = default);

    /// <summary>The namespace's entries, ordered by key (ordinal).</summary>
    Task<IReadOnlyList<KeyValueEntry>> ListValuesAsync(string @namespace, CancellationToken cancellationToken = default);

    /// <summary>Every namespace that holds a value or a checkpoint, ordered (ordinal).</summary>
    Task<IReadOnlyList<string>> ListNamespacesAsync(CancellationToken cancellationToken = default);

    /// <summary>Copies the namespace's values under <paramref name="name"/>, replacing a checkpoint of that name.</summary>
    Task<CheckpointInfo> CreateCheckpointAsync(string @namespace, string name, CancellationToken cancellationToken = default);

    /// <summary>The namespace's checkpoints, oldest first.</summary>
    Task<IReadOnlyList<CheckpointInfo>> ListCheckpointsAsync(string @namespace, CancellationToken cancellationToken = default);

    /// <summary>One checkpoint with the values it holds; null if there is none. Lets a migration copy checkpoints one at a time.</summary>
    Task<CheckpointRecord?> GetCheckpointAsync(string @namespace, string name, CancellationToken cancellationToken = default);

    /// <summary>
    /// Makes the namespace hold exactly the checkpoint's values, atomically: keys it lacks are deleted, the rest saved
    /// (each restored entry's version moves forward, never back; a key deleted since the checkpoint starts again at 1).
    /// </summary>
    /// <exception cref="CheckpointNotFoundException">There is no such checkpoint.</exception>
    Task RestoreCheckpointAsync(string @namespace, string name, CancellationToken cancellationToken = default);

    /// <summary>Deletes a checkpoint; false if there was none.</summary>
    Task<bool> DeleteCheckpointAsync(string @namespace, string name, CancellationToken cancellationToken = default);
}

/// <summary>
/// Leases let many workers share one store: a worker claims due workflows for a while, renews while it works, and
/// releases when done. A claim moves the workflow's version forward, so a worker whose lease was taken over cannot
/// commit over the new owner: its expected version is stale.
/// </summary>
public interface ILeaseStore
{
    /// <summary>
    /// Leases up to <see cref="LeaseRequest.MaxCount"/> due, non-terminal, unarchived workflows that are not leased
    /// or whose lease has expired (a dead worker's). Returns them at their new version. A workflow of a queue
    /// (<see cref="WorkflowRecord.Queue"/>) is leased only while its queue's limits leave room, counted atomically
    /// with the claim, highest priority first (see <see cref="Queues.QueueCatalog"/>).
    /// </summary>
    Task<IReadOnlyList<WorkflowRecord>> ClaimDueWorkflowsAsync(LeaseRequest request, CancellationToken cancellationToken = default);

    /// <summary>
    /// Leases one workflow whether due or not, unless another owner holds a live lease on it, or it is in a queue
    /// that has no room for it (then null).
    /// Claiming a workflow one already holds renews the lease. Returns it at its new version.
    /// </summary>
    /// <exception cref="WorkflowNotFoundException">There is no such workflow.</exception>
    Task<WorkflowRecord?> ClaimWorkflowAsync(string workflowId, string owner, TimeSpan duration, CancellationToken cancellationToken = default);

    /// <summary>
    /// Extends <paramref name="owner"/>'s lease to now plus <paramref name="duration"/>. False if the lease is no longer
    /// the owner's (taken over or released). Does not change the workflow's version.
    /// </summary>
    Task<bool> RenewLeaseAsync(string workflowId, string owner, TimeSpan duration, CancellationToken cancellationToken = default);

    /// <summary>
    /// Extends every lease <paramref name="owner"/> holds to now plus <paramref name="duration"/>, in one write: a worker
    /// running thousands of workflows renews them all at once. Returns how many. Does not change versions.
    /// </summary>
    Task<int> RenewLeasesAsync(string owner, TimeSpan duration, CancellationToken cancellationToken = default);

    /// <summary>Clears <paramref name="owner"/>'s lease; false if it was not the owner's. Does not change the version.</summary>
    Task<bool> ReleaseLeaseAsync(string workflowId, string owner, CancellationToken cancellationToken = default);
}

/// <summary>Housekeeping: archiving, deleting, export, import and backup.</summary>
public interface IStoreMaintenance
{
    /// <summary>
    /// Archives terminal workflows that finished before <paramref name="olderThan"/> and are not archived yet, with an
    /// <c>archived</c> audit event each. Archived workflows keep their data but leave listings. Returns how many.
    /// </summary>
    Task<int> ArchiveWorkflowsAsync(DateTimeOffset olderThan, CancellationToken cancellationToken = default);

    /// <summary>Deletes a workflow with its journal, events, commands, workspace and pending signals; false if there was none.</summary>
    Task<bool> DeleteWorkflowAsync(string workflowId, CancellationToken cancellationToken = default);

    /// <summary>Everything the store holds, in a canonical order (see <see cref="StoreSnapshot"/>).</summary>
    Task<StoreSnapshot> ExportAsync(CancellationToken cancellationToken = default);

    /// <summary>
    /// Writes a snapshot's records as they are (ids, versions, sequences and times kept), atomically.
    /// </summary>
    /// <exception cref="StoreNotEmptyException">The store holds data and <paramref name="mode"/> is not Merge.</exception>
    Task ImportAsync(StoreSnapshot snapshot, ImportMode mode = ImportMode.EmptyStoreOnly, CancellationToken cancellationToken = default);

    /// <summary>Writes a consistent copy of the whole store to <paramref name="destinationPath"/>, while it stays in use.</summary>
    Task BackupAsync(string destinationPath, CancellationToken cancellationToken = default);
}
