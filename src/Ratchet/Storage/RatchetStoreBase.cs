using Ratchet.Serialization;

namespace Ratchet.Storage;

/// <summary>
/// The base of Ratchet's stores: every public operation checks its arguments, lease requests and page tokens here,
/// with one set of messages, then calls the store's <c>…CoreAsync</c> operation, which sees only valid calls.
/// Listings are paged here as well: a store returns the workflows after a decoded position and the base cuts the
/// page and issues the next token. Operations with nothing to check are abstract as the contract states them.
/// </summary>
/// <remarks>
/// Argument misuse throws at once (before a task is returned) with the BCL's <see cref="ArgumentException"/>
/// family. Everything a store raises itself (refusals, outages) comes through its task, translated as the contract
/// says.
/// </remarks>
public abstract class RatchetStoreBase : IRatchetStore
{
    /// <inheritdoc />
    public abstract string Description { get; }

    /// <inheritdoc />
    public abstract ValueTask DisposeAsync();

    // ---- workflows ---------------------------------------------------------------------------------------------

    /// <inheritdoc />
    public Task CommitAsync(ChangeSet changes, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(changes);
        return changes.IsEmpty ? Task.CompletedTask : CommitCoreAsync(changes, cancellationToken);
    }

    /// <inheritdoc />
    public Task<WorkflowRecord?> GetWorkflowAsync(string id, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(id);
        return GetWorkflowCoreAsync(id, cancellationToken);
    }

    /// <inheritdoc />
    /// <exception cref="ArgumentOutOfRangeException">The query's limit is outside 1 to <see cref="WorkflowQuery.MaxLimit"/>.</exception>
    /// <exception cref="ArgumentException">The page token was not issued by a Ratchet store.</exception>
    public Task<WorkflowPage> ListWorkflowsAsync(WorkflowQuery query, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(query);
        if (query.Limit is < 1 or > WorkflowQuery.MaxLimit)
        {
            throw new ArgumentOutOfRangeException(nameof(query), query.Limit, $"A page holds 1 to {WorkflowQuery.MaxLimit} workflows.");
        }

        var after = query.PageToken is { } token ? PageTokens.Parse(token, nameof(query)) : default(WorkflowPosition?);
        return PageAsync(ListWorkflowsCoreAsync(query, after, cancellationToken), query.Limit);
    }

    /// <inheritdoc />
    public Task<IReadOnlyList<WorkflowRecord>> GetDueWorkflowsAsync(DateTimeOffset asOf, int limit, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(limit);
        return GetDueWorkflowsCoreAsync(asOf, limit, cancellationToken);
    }

    /// <inheritdoc />
    public Task<IReadOnlyList<StepRecord>> GetStepsAsync(string workflowId, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(workflowId);
        return GetStepsCoreAsync(workflowId, cancellationToken);
    }

    /// <inheritdoc />
    public Task<IReadOnlyList<AuditEvent>> GetEventsAsync(string workflowId, long afterSequence = 0, int limit = int.MaxValue, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(workflowId);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(limit);
        return GetEventsCoreAsync(workflowId, afterSequence, limit, cancellationToken);
    }

    /// <inheritdoc />
    public Task<IReadOnlyList<CommandExecution>> GetCommandsAsync(string workflowId, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(workflowId);
        return GetCommandsCoreAsync(workflowId, cancellationToken);
    }

    /// <inheritdoc />
    public Task<WorkspaceRecord?> GetWorkspaceAsync(string workflowId, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(workflowId);
        return GetWorkspaceCoreAsync(workflowId, cancellationToken);
    }

    /// <inheritdoc />
    public Task<IReadOnlyList<SignalRecord>> GetPendingSignalsAsync(string workflowId, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(workflowId);
        return GetPendingSignalsCoreAsync(workflowId, cancellationToken);
    }

    /// <inheritdoc />
    public abstract Task<IReadOnlyList<WorkspaceRecord>> ListWorkspacesAsync(WorkspaceStatus? status = null, CancellationToken cancellationToken = default);

    // ---- key-value state and checkpoints -----------------------------------------------------------------------

    /// <inheritdoc />
    public Task<KeyValueEntry?> GetValueAsync(string @namespace, string key, CancellationToken cancellationToken = default)
    {
        KeyValueNames.Validate(@namespace, key);
        return GetValueCoreAsync(@namespace, key, cancellationToken);
    }

    /// <inheritdoc />
    public Task<IReadOnlyList<KeyValueEntry>> ListValuesAsync(string @namespace, CancellationToken cancellationToken = default)
    {
        ValidateNamespace(@namespace);
        return ListValuesCoreAsync(@namespace, cancellationToken);
    }

    /// <inheritdoc />
    public abstract Task<IReadOnlyList<string>> ListNamespacesAsync(CancellationToken cancellationToken = default);

    /// <inheritdoc />
    public Task<CheckpointInfo> CreateCheckpointAsync(string @namespace, string name, CancellationToken cancellationToken = default)
    {
        ValidateCheckpoint(@namespace, name);
        return CreateCheckpointCoreAsync(@namespace, name, cancellationToken);
    }

    /// <inheritdoc />
    public Task<IReadOnlyList<CheckpointInfo>> ListCheckpointsAsync(string @namespace, CancellationToken cancellationToken = default)
    {
        ValidateNamespace(@namespace);
        return ListCheckpointsCoreAsync(@namespace, cancellationToken);
    }

    /// <inheritdoc />
    public Task<CheckpointRecord?> GetCheckpointAsync(string @namespace, string name, CancellationToken cancellationToken = default)
    {
        ValidateCheckpoint(@namespace, name);
        return GetCheckpointCoreAsync(@namespace, name, cancellationToken);
    }

    /// <inheritdoc />
    public Task RestoreCheckpointAsync(string @namespace, string name, CancellationToken cancellationToken = default)
    {
        ValidateCheckpoint(@namespace, name);
        return RestoreCheckpointCoreAsync(@namespace, name, cancellationToken);
    }

    /// <inheritdoc />
    public Task<bool> DeleteCheckpointAsync(string @namespace, string name, CancellationToken cancellationToken = default)
    {
        ValidateCheckpoint(@namespace, name);
        return DeleteCheckpointCoreAsync(@namespace, name, cancellationToken);
    }

    // ---- leases ------------------------------------------------------------------------------------------------

    /// <inheritdoc />
    /// <exception cref="ArgumentOutOfRangeException">The request asks for no workflow, or for a lease that does not last.</exception>
    public Task<IReadOnlyList<WorkflowRecord>> ClaimDueWorkflowsAsync(LeaseRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        ValidateLease(request.Owner, request.Duration);
        if (request.MaxCount < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(request), request.MaxCount, "A lease request must ask for at least one workflow.");
        }

        return ClaimDueWorkflowsCoreAsync(request, cancellationToken);
    }

    /// <inheritdoc />
    public Task<WorkflowRecord?> ClaimWorkflowAsync(string workflowId, string owner, TimeSpan duration, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(workflowId);
        ValidateLease(owner, duration);
        return ClaimWorkflowCoreAsync(workflowId, owner, duration, cancellationToken);
    }

    /// <inheritdoc />
    public Task<bool> RenewLeaseAsync(string workflowId, string owner, TimeSpan duration, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(workflowId);
        ValidateLease(owner, duration);
        return RenewLeaseCoreAsync(workflowId, owner, duration, cancellationToken);
    }

    /// <inheritdoc />
    public Task<int> RenewLeasesAsync(string owner, TimeSpan duration, CancellationToken cancellationToken = default)
    {
        ValidateLease(owner, duration);
        return RenewLeasesCoreAsync(owner, duration, cancellationToken);
    }

    /// <inheritdoc />
    public Task<bool> ReleaseLeaseAsync(string workflowId, string owner, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(workflowId);
        ArgumentException.ThrowIfNullOrEmpty(owner);
        return ReleaseLeaseCoreAsync(workflowId, owner, cancellationToken);
    }

    // ---- maintenance -------------------------------------------------------------------------------------------

    /// <inheritdoc />
    public abstract Task<int> ArchiveWorkflowsAsync(DateTimeOffset olderThan, CancellationToken cancellationToken = default);

    /// <inheritdoc />
    public Task<bool> DeleteWorkflowAsync(string workflowId, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(workflowId);
        return DeleteWorkflowCoreAsync(workflowId, cancellationToken);
    }

    /// <inheritdoc />
    public abstract Task<StoreSnapshot> ExportAsync(CancellationToken cancellationToken = default);

    /// <inheritdoc />
    /// <exception cref="ArgumentException">A workflow id, namespace, key or checkpoint name of the snapshot is not usable; nothing was written.</exception>
    public Task ImportAsync(StoreSnapshot snapshot, ImportMode mode = ImportMode.EmptyStoreOnly, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(snapshot);
        foreach (var workflow in snapshot.Workflows)
        {
            WorkflowIds.Validate(workflow.Id, nameof(snapshot));
        }

        foreach (var entry in snapshot.Values)
        {
            KeyValueNames.Validate(entry.Namespace, entry.Key);
        }

        foreach (var checkpoint in snapshot.Checkpoints)
        {
            KeyValueNames.ValidateName(checkpoint.Namespace, "namespace", nameof(snapshot));
            KeyValueNames.ValidateName(checkpoint.Name, "checkpoint name", nameof(snapshot));
        }

        return ImportCoreAsync(snapshot, mode, cancellationToken);
    }

    /// <inheritdoc />
    /// <exception cref="ArgumentException">Something already exists at <paramref name="destinationPath"/>.</exception>
    public Task BackupAsync(string destinationPath, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(destinationPath);
        var destination = Path.GetFullPath(destinationPath);
        if (File.Exists(destination) || Directory.Exists(destination))
        {
            throw new ArgumentException(
                $"The backup destination '{destinationPath}' already exists; choose a new name so that no backup is overwritten.", nameof(destinationPath));
        }

        return BackupCoreAsync(destination, cancellationToken);
    }

    // ---- what a store implements -------------------------------------------------------------------------------

    /// <summary>Applies a non-empty change set atomically (see <see cref="CommitAsync"/>).</summary>
    protected abstract Task CommitCoreAsync(ChangeSet changes, CancellationToken cancellationToken);

    /// <summary>The workflow with this (non-empty) id; null if there is none.</summary>
    protected abstract Task<WorkflowRecord?> GetWorkflowCoreAsync(string id, CancellationToken cancellationToken);

    /// <summary>
    /// The workflows matching <paramref name="query"/>'s filters that come after <paramref name="after"/> in its order
    /// (by creation time in whole microseconds, then id, ordinal; both descending for
    /// <see cref="ListOrder.NewestFirst"/>), in that order: <see cref="WorkflowQuery.Limit"/> plus one of them when
    /// there are that many, so the base knows whether a next page exists (more are cut off).
    /// </summary>
    /// <param name="query">The query, its limit checked; its page token is already decoded into <paramref name="after"/>.</param>
    /// <param name="after">Where the previous page ended; null for the first page.</param>
    /// <param name="cancellationToken">Cancels the read.</param>
    protected abstract Task<IReadOnlyList<WorkflowRecord>> ListWorkflowsCoreAsync(WorkflowQuery query, WorkflowPosition? after, CancellationToken cancellationToken);

    /// <summary>Up to <paramref name="limit"/> (at least 1) due workflows (see <see cref="GetDueWorkflowsAsync"/>).</summary>
    protected abstract Task<IReadOnlyList<WorkflowRecord>> GetDueWorkflowsCoreAsync(DateTimeOffset asOf, int limit, CancellationToken cancellationToken);

    /// <summary>The journal of the workflow with this (non-empty) id, in sequence order.</summary>
    protected abstract Task<IReadOnlyList<StepRecord>> GetStepsCoreAsync(string workflowId, CancellationToken cancellationToken);

    /// <summary>Up to <paramref name="limit"/> (at least 1) events after <paramref name="afterSequence"/>, in order.</summary>
    protected abstract Task<IReadOnlyList<AuditEvent>> GetEventsCoreAsync(string workflowId, long afterSequence, int limit, CancellationToken cancellationToken);

    /// <summary>The commands of the workflow with this (non-empty) id, in order.</summary>
    protected abstract Task<IReadOnlyList<CommandExecution>> GetCommandsCoreAsync(string workflowId, CancellationToken cancellationToken);

    /// <summary>The workspace of the workflow with this (non-empty) id; null if it has none.</summary>
    protected abstract Task<WorkspaceRecord?> GetWorkspaceCoreAsync(string workflowId, CancellationToken cancellationToken);

    /// <summary>The pending signals of the workflow with this (non-empty) id, in sequence order; empty if it has none or does not exist.</summary>
    protected abstract Task<IReadOnlyList<SignalRecord>> GetPendingSignalsCoreAsync(string workflowId, CancellationToken cancellationToken);

    /// <summary>The entry under a valid namespace and key; null if there is none.</summary>
    protected abstract Task<KeyValueEntry?> GetValueCoreAsync(string @namespace, string key, CancellationToken cancellationToken);

    /// <summary>A valid namespace's entries, ordered by key (ordinal).</summary>
    protected abstract Task<IReadOnlyList<KeyValueEntry>> ListValuesCoreAsync(string @namespace, CancellationToken cancellationToken);

    /// <summary>Copies a valid namespace's values under a valid checkpoint name (see <see cref="CreateCheckpointAsync"/>).</summary>
    protected abstract Task<CheckpointInfo> CreateCheckpointCoreAsync(string @namespace, string name, CancellationToken cancellationToken);

    /// <summary>A valid namespace's checkpoints, oldest first.</summary>
    protected abstract Task<IReadOnlyList<CheckpointInfo>> ListCheckpointsCoreAsync(string @namespace, CancellationToken cancellationToken);

    /// <summary>One checkpoint with its values; null if there is none.</summary>
    protected abstract Task<CheckpointRecord?> GetCheckpointCoreAsync(string @namespace, string name, CancellationToken cancellationToken);

    /// <summary>Makes the namespace hold exactly the checkpoint's values (see <see cref="RestoreCheckpointAsync"/>).</summary>
    protected abstract Task RestoreCheckpointCoreAsync(string @namespace, string name, CancellationToken cancellationToken);

    /// <summary>Deletes a checkpoint; false if there was none.</summary>
    protected abstract Task<bool> DeleteCheckpointCoreAsync(string @namespace, string name, CancellationToken cancellationToken);

    /// <summary>Leases due workflows for a checked request (owner set, duration above zero, at least one wanted).</summary>
    protected abstract Task<IReadOnlyList<WorkflowRecord>> ClaimDueWorkflowsCoreAsync(LeaseRequest request, CancellationToken cancellationToken);

    /// <summary>Leases one workflow (see <see cref="ClaimWorkflowAsync"/>); owner set, duration above zero.</summary>
    protected abstract Task<WorkflowRecord?> ClaimWorkflowCoreAsync(string workflowId, string owner, TimeSpan duration, CancellationToken cancellationToken);

    /// <summary>Extends one lease of the owner (see <see cref="RenewLeaseAsync"/>).</summary>
    protected abstract Task<bool> RenewLeaseCoreAsync(string workflowId, string owner, TimeSpan duration, CancellationToken cancellationToken);

    /// <summary>Extends every lease of the owner in one write (see <see cref="RenewLeasesAsync"/>).</summary>
    protected abstract Task<int> RenewLeasesCoreAsync(string owner, TimeSpan duration, CancellationToken cancellationToken);

    /// <summary>Clears the owner's lease (see <see cref="ReleaseLeaseAsync"/>).</summary>
    protected abstract Task<bool> ReleaseLeaseCoreAsync(string workflowId, string owner, CancellationToken cancellationToken);

    /// <summary>Deletes the workflow with this (non-empty) id and everything of it; false if there was none.</summary>
    protected abstract Task<bool> DeleteWorkflowCoreAsync(string workflowId, CancellationToken cancellationToken);

    /// <summary>Writes a snapshot whose ids and names are all valid (see <see cref="ImportAsync"/>).</summary>
    protected abstract Task ImportCoreAsync(StoreSnapshot snapshot, ImportMode mode, CancellationToken cancellationToken);

    /// <summary>Writes a consistent copy of the store to <paramref name="destination"/>, a full path where nothing exists yet.</summary>
    protected abstract Task BackupCoreAsync(string destination, CancellationToken cancellationToken);

    /// <summary>
    /// A backup for stores without a file of their own to copy: the store's export (see <see cref="ExportAsync"/>) as
    /// one snapshot JSON document, the format <c>ImportAsync</c> reads back into any store. The file appears under its
    /// name only when complete, so a crash never leaves a truncated backup there.
    /// </summary>
    /// <param name="destination">The full path of the file to write; nothing may exist there.</param>
    /// <param name="cancellationToken">Cancels the export and the write.</param>
    /// <exception cref="StoreOperationException">The file could not be written (transient: a full disk may be freed).</exception>
    protected async Task WriteSnapshotBackupAsync(string destination, CancellationToken cancellationToken)
    {
        var snapshot = await ExportAsync(cancellationToken).ConfigureAwait(false);
        var temporary = destination + ".tmp";
        try
        {
            if (Path.GetDirectoryName(destination) is { Length: > 0 } folder)
            {
                Directory.CreateDirectory(folder);
            }

            await using (var stream = new FileStream(temporary, FileMode.Create, FileAccess.Write, FileShare.None, 65536, FileOptions.Asynchronous))
            {
                await RatchetJson.WriteSnapshotAsync(stream, snapshot, cancellationToken).ConfigureAwait(false);
                await stream.FlushAsync(cancellationToken).ConfigureAwait(false);
                stream.Flush(flushToDisk: true);
            }

            File.Move(temporary, destination, overwrite: false);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            File.Delete(temporary);
            throw new StoreOperationException(
                $"The backup of {Description} could not be written to '{destination}': {ex.Message} Check the path, its permissions and free space.", ex, isTransient: true);
        }
    }

    private static void ValidateNamespace(string @namespace) => KeyValueNames.ValidateName(@namespace, "namespace", nameof(@namespace));

    private static void ValidateCheckpoint(string @namespace, string name)
    {
        ValidateNamespace(@namespace);
        KeyValueNames.ValidateName(name, "checkpoint name", nameof(name));
    }

    private static void ValidateLease(string owner, TimeSpan duration)
    {
        ArgumentException.ThrowIfNullOrEmpty(owner);
        if (duration <= TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(duration), duration, "A lease must last longer than zero.");
        }
    }

    private static async Task<WorkflowPage> PageAsync(Task<IReadOnlyList<WorkflowRecord>> listing, int limit)
    {
        var items = await listing.ConfigureAwait(false);
        if (items.Count <= limit)
        {
            return new WorkflowPage(items, null);
        }

        var page = items.Take(limit).ToArray();
        return new WorkflowPage(page, PageTokens.Format(WorkflowPosition.Of(page[^1])));
    }
}
