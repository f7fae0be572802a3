using Ratchet.Queues;
using Ratchet.Storage;

namespace Ratchet.Files;

public sealed partial class FilesRatchetStore
{
    /// <inheritdoc />
    protected override Task CommitCoreAsync(ChangeSet changes, CancellationToken cancellationToken) =>
        RunAsync(session =>
        {
            Apply(session, changes);
            return true;
        }, cancellationToken);

    private static void Apply(FilesSession session, ChangeSet changes)
    {
        // Conditions first, so that a change set may check and write the same workflow or key.
        foreach (var check in changes.Checks)
        {
            var actual = session.Workflow(check.WorkflowId)?.Version;
            if (actual is null && check.ExpectedVersion > 0)
            {
                throw new WorkflowNotFoundException(check.WorkflowId);
            }

            if ((actual ?? 0) != check.ExpectedVersion)
            {
                throw new WorkflowConcurrencyException(check.WorkflowId, check.ExpectedVersion, actual ?? 0);
            }
        }

        foreach (var check in changes.ValueChecks)
        {
            CheckValueVersion(session, check.Namespace, check.Key, check.ExpectedVersion);
        }

        foreach (var write in changes.Workflows)
        {
            var record = write.Record;
            var current = session.Workflow(record.Id);
            if (write.Kind == WorkflowWriteKind.Create)
            {
                if (current is not null)
                {
                    throw new WorkflowAlreadyExistsException(record.Id);
                }

                session.PutWorkflow(StoreRecords.Truncate(record with { Version = 1 }));
                continue;
            }

            if (current is null)
            {
                throw new WorkflowNotFoundException(record.Id);
            }

            if (current.Version != record.Version)
            {
                throw new WorkflowConcurrencyException(record.Id, record.Version, current.Version);
            }

            // The lease is the store's: an update keeps the stored one, or clears it.
            var release = write.Lease == LeaseAction.Release;
            session.PutWorkflow(StoreRecords.Truncate(record with
            {
                Version = current.Version + 1,
                LeaseOwner = release ? null : current.LeaseOwner,
                LeaseExpiresAt = release ? null : current.LeaseExpiresAt,
            }));
        }

        Write(session, changes.Steps, static s => s.WorkflowId, static (session, s) => session.AppendStep(s));
        Write(session, changes.Events, static e => e.WorkflowId, static (session, e) => session.AppendEvent(e));
        Write(session, changes.Commands, static c => c.WorkflowId, static (session, c) => session.AppendCommand(c));
        Write(session, changes.Workspaces, static w => w.WorkflowId, static (session, w) => session.PutWorkspace(w));
        if (changes.HasSignals)
        {
            ApplySignals(session, changes);
        }

        foreach (var write in changes.KeyValues)
        {
            if (write.ExpectedVersion is { } expected)
            {
                CheckValueVersion(session, write.Namespace, write.Key, expected);
            }

            if (write.Value is { } value)
            {
                SaveValue(session, write.Namespace, write.Key, value);
            }
            else
            {
                session.RemoveValue(write.Namespace, write.Key);
            }
        }
    }

    /// <summary>Consumes, then checks, then sends: the contract's order for a change set's signal operations.</summary>
    private static void ApplySignals(FilesSession session, ChangeSet changes)
    {
        foreach (var consume in changes.SignalConsumes)
        {
            if (session.Workflow(consume.WorkflowId) is null || !session.RemoveSignal(consume.WorkflowId, consume.Sequence))
            {
                throw SignalConflictException.NotPending(consume.WorkflowId, consume.Sequence);
            }
        }

        foreach (var check in changes.SignalChecks)
        {
            if (session.Workflow(check.WorkflowId) is not null &&
                session.Signals(check.WorkflowId).Exists(g => string.Equals(g.Name, check.Name, StringComparison.Ordinal)))
            {
                throw SignalConflictException.Pending(check.WorkflowId, check.Name);
            }
        }

        Write(session, changes.Signals, static g => g.WorkflowId, static (session, g) => session.AppendSignal(g));
    }

    /// <summary>Writes each record of a workflow's journal, events, commands or workspace, refusing one whose workflow is missing.</summary>
    private static void Write<T>(FilesSession session, IReadOnlyList<T> records, Func<T, string> workflowId, Action<FilesSession, T> write)
    {
        foreach (var record in records)
        {
            RequireWorkflow(session, workflowId(record));
            write(session, record);
        }
    }

    private static void RequireWorkflow(FilesSession session, string workflowId)
    {
        if (session.Workflow(workflowId) is null)
        {
            throw new WorkflowNotFoundException(workflowId);
        }
    }

    private static void CheckValueVersion(FilesSession session, string @namespace, string key, long expected)
    {
        var actual = session.Value(@namespace, key)?.Version ?? 0;
        if (actual != expected)
        {
            throw new KeyValueConcurrencyException(@namespace, key, expected, actual);
        }
    }

    private static void SaveValue(FilesSession session, string @namespace, string key, System.Text.Json.JsonElement value) =>
        session.PutValue(new KeyValueEntry
        {
            Namespace = @namespace,
            Key = key,
            Value = value.Clone(),
            Version = (session.Value(@namespace, key)?.Version ?? 0) + 1,
            UpdatedAt = session.Now,
        });

    // ---- leases ------------------------------------------------------------------------------------------------

    /// <inheritdoc />
    protected override Task<IReadOnlyList<WorkflowRecord>> ClaimDueWorkflowsCoreAsync(LeaseRequest request, CancellationToken cancellationToken) =>
        RunAsync<IReadOnlyList<WorkflowRecord>>(session =>
        {
            var now = session.Now;
            var expires = StoreTime.Truncate(now + request.Duration);
            var types = request.Types is { Count: > 0 } t ? new HashSet<string>(t, StringComparer.Ordinal) : null;
            var all = session.AllWorkflows(OnDamage.Skip);

            // Queues first: their workflows are few and limited, and would starve behind a backlog of the others.
            var queued = all.Exists(w => w.Queue is not null)
                ? Sync(QueueClaims.ClaimAsync(new QueueSession(session, all), request, StoreTime.ToMicroseconds(now), StoreTime.ToMicroseconds(expires), request.MaxCount))
                : [];
            var claimed = queued.Concat(Due(all, now)
                .Where(w => w.Queue is null && (w.LeaseOwner is null || w.LeaseExpiresAt <= now))
                .Where(w => types is null || types.Contains(w.Type))
                .Take(request.MaxCount - queued.Count)
                .Select(w => w with { LeaseOwner = request.Owner, LeaseExpiresAt = expires, Version = w.Version + 1 }))
                .ToList();
            foreach (var workflow in claimed.Skip(queued.Count))
            {
                session.PutWorkflow(workflow);
            }

            return claimed;
        }, cancellationToken);

    /// <summary>Non-terminal, unarchived workflows due at or before <paramref name="asOf"/>, by due time then id.</summary>
    private static IEnumerable<WorkflowRecord> Due(IEnumerable<WorkflowRecord> workflows, DateTimeOffset asOf) =>
        workflows
            .Where(w => w.DueAt is { } due && due <= asOf && w.ArchivedAt is null && !w.IsTerminal)
            .OrderBy(w => w.DueAt)
            .ThenBy(w => w.Id, StringComparer.Ordinal);

    /// <inheritdoc />
    protected override Task<WorkflowRecord?> ClaimWorkflowCoreAsync(string workflowId, string owner, TimeSpan duration, CancellationToken cancellationToken) =>
        RunAsync(session =>
        {
            var current = session.Workflow(workflowId) ?? throw new WorkflowNotFoundException(workflowId);
            var now = session.Now;
            if (current.LeaseOwner is not null && current.LeaseOwner != owner && current.LeaseExpiresAt > now)
            {
                return null;
            }

            var nowMicros = StoreTime.ToMicroseconds(now);
            if (current is { Queue: { } queue, IsTerminal: false } && (current.LeaseOwner is null || current.LeaseExpiresAt <= now))
            {
                // Anyone but its holder takes a workflow of a queue only while the queue has room.
                var queues = new QueueSession(session, session.AllWorkflows(OnDamage.Skip));
                if (!Sync(QueueClaims.AdmitsAsync(queues, queue, current.QueuePartition, owner, nowMicros)))
                {
                    return null;
                }

                Sync(QueueClaims.StartedAsync(queues, queue, nowMicros));
            }

            var claimed = current with { LeaseOwner = owner, LeaseExpiresAt = StoreTime.Truncate(now + duration), Version = current.Version + 1 };
            session.PutWorkflow(claimed);
            return claimed;
        }, cancellationToken);

    /// <inheritdoc />
    protected override Task<bool> RenewLeaseCoreAsync(string workflowId, string owner, TimeSpan duration, CancellationToken cancellationToken) =>
        RunAsync(session =>
        {
            var current = session.Workflow(workflowId);
            if (current is null || current.LeaseOwner != owner)
            {
                return false;
            }

            session.PutWorkflow(current with { LeaseExpiresAt = StoreTime.Truncate(session.Now + duration) });
            return true;
        }, cancellationToken);

    /// <inheritdoc />
    protected override Task<int> RenewLeasesCoreAsync(string owner, TimeSpan duration, CancellationToken cancellationToken) =>
        RunAsync(session =>
        {
            var expires = StoreTime.Truncate(session.Now + duration);
            var count = 0;
            foreach (var workflow in session.AllWorkflows(OnDamage.Skip).Where(w => w.LeaseOwner == owner))
            {
                session.PutWorkflow(workflow with { LeaseExpiresAt = expires });
                count++;
            }

            return count;
        }, cancellationToken);

    /// <inheritdoc />
    protected override Task<bool> ReleaseLeaseCoreAsync(string workflowId, string owner, CancellationToken cancellationToken) =>
        RunAsync(session =>
        {
            var current = session.Workflow(workflowId);
            if (current is null || current.LeaseOwner != owner)
            {
                return false;
            }

            session.PutWorkflow(current with { LeaseOwner = null, LeaseExpiresAt = null });
            return true;
        }, cancellationToken);

    // ---- checkpoints -------------------------------------------------------------------------------------------

    /// <inheritdoc />
    protected override Task<CheckpointInfo> CreateCheckpointCoreAsync(string @namespace, string name, CancellationToken cancellationToken) =>
        RunAsync(session =>
        {
            var entries = new Dictionary<string, System.Text.Json.JsonElement>(StringComparer.Ordinal);
            foreach (var entry in session.Values(@namespace))
            {
                entries[entry.Key] = entry.Value;
            }

            session.PutCheckpoint(new CheckpointRecord { Namespace = @namespace, Name = name, CreatedAt = session.Now, Entries = entries });
            return new CheckpointInfo { Namespace = @namespace, Name = name, CreatedAt = session.Now, EntryCount = entries.Count };
        }, cancellationToken);

    /// <inheritdoc />
    protected override Task RestoreCheckpointCoreAsync(string @namespace, string name, CancellationToken cancellationToken) =>
        RunAsync(session =>
        {
            var checkpoint = session.Checkpoint(@namespace, name) ?? throw new CheckpointNotFoundException(@namespace, name);
            foreach (var entry in session.Values(@namespace).Where(e => !checkpoint.Entries.ContainsKey(e.Key)))
            {
                session.RemoveValue(@namespace, entry.Key);
            }

            foreach (var (key, value) in checkpoint.Entries)
            {
                SaveValue(session, @namespace, key, value);
            }

            return true;
        }, cancellationToken);

    /// <inheritdoc />
    protected override Task<bool> DeleteCheckpointCoreAsync(string @namespace, string name, CancellationToken cancellationToken) =>
        RunAsync(session =>
        {
            if (session.Checkpoint(@namespace, name) is null)
            {
                return false;
            }

            session.RemoveCheckpoint(@namespace, name);
            return true;
        }, cancellationToken);

    // ---- maintenance -------------------------------------------------------------------------------------------

    /// <inheritdoc />
    public override Task<int> ArchiveWorkflowsAsync(DateTimeOffset olderThan, CancellationToken cancellationToken = default) =>
        RunAsync(session =>
        {
            var now = session.Now;
            // A workflow whose events cannot be read is left as it is: its archived event has nowhere to go.
            var archived = session.AllWorkflows(OnDamage.Skip)
                .Where(w => w.CompletedAt is { } completed && completed < olderThan && w.ArchivedAt is null && w.IsTerminal)
                .Where(w => session.EventsReadable(w.Id))
                .OrderBy(w => w.Id, StringComparer.Ordinal)
                .ToList();
            foreach (var workflow in archived)
            {
                session.PutWorkflow(workflow with { ArchivedAt = now, UpdatedAt = now, Version = workflow.Version + 1 });
                session.AppendEvent(new AuditEvent { WorkflowId = workflow.Id, Type = AuditEventTypes.Archived, At = now });
            }

            return archived.Count;
        }, cancellationToken);

    /// <inheritdoc />
    protected override Task<bool> DeleteWorkflowCoreAsync(string workflowId, CancellationToken cancellationToken) =>
        RunAsync(session =>
        {
            if (session.Workflow(workflowId) is null)
            {
                return false;
            }

            session.RemoveWorkflow(workflowId);
            return true;
        }, cancellationToken);

    /// <inheritdoc />
    protected override Task ImportCoreAsync(StoreSnapshot snapshot, ImportMode mode, CancellationToken cancellationToken) =>
        RunAsync(session =>
        {
            // A damaged record is data too: an import must not pass a store holding one for empty.
            var hasData = session.AllWorkflows(OnDamage.Skip).Count > 0 || session.Namespaces(OnDamage.Skip).Count > 0 || session.SkippedDamaged;
            if (hasData && mode != ImportMode.Merge)
            {
                throw new StoreNotEmptyException(Description);
            }

            // In a merge, a workflow the target already has keeps all of its own records.
            var imported = new HashSet<string>(StringComparer.Ordinal);
            foreach (var workflow in snapshot.Workflows)
            {
                if (session.Workflow(workflow.Id) is null && imported.Add(workflow.Id))
                {
                    session.PutWorkflow(StoreRecords.Truncate(workflow));
                }
            }

            foreach (var id in imported)
            {
                session.PutHistory(
                    id,
                    snapshot.Steps.Where(s => s.WorkflowId == id).OrderBy(s => s.Sequence).Select(StoreRecords.Truncate).ToList(),
                    snapshot.Events.Where(e => e.WorkflowId == id).OrderBy(e => e.Sequence).Select(StoreRecords.Truncate).ToList(),
                    snapshot.Commands.Where(c => c.WorkflowId == id).OrderBy(c => c.Sequence).Select(StoreRecords.Truncate).ToList());
            }

            foreach (var workspace in snapshot.Workspaces.Where(w => imported.Contains(w.WorkflowId)))
            {
                session.PutWorkspace(workspace);
            }

            foreach (var signals in snapshot.Signals.Where(g => imported.Contains(g.WorkflowId)).GroupBy(g => g.WorkflowId, StringComparer.Ordinal))
            {
                session.PutSignals(signals.Key, signals.OrderBy(g => g.Sequence).Select(StoreRecords.Truncate).ToList());
            }

            foreach (var entry in snapshot.Values)
            {
                if (session.Value(entry.Namespace, entry.Key) is null)
                {
                    session.PutValue(StoreRecords.Truncate(entry));
                }
            }

            foreach (var checkpoint in snapshot.Checkpoints)
            {
                if (session.Checkpoint(checkpoint.Namespace, checkpoint.Name) is null)
                {
                    session.PutCheckpoint(StoreRecords.Truncate(checkpoint));
                }
            }

            return true;
        }, cancellationToken);

    /// <inheritdoc />
    /// <remarks>
    /// Copies the root folder (without its lock file, temporary files or last good copies) to
    /// the destination, a folder that must not exist yet, while holding the lock: the copy is consistent and can be
    /// opened as a file store itself.
    /// </remarks>
    protected override Task BackupCoreAsync(string destination, CancellationToken cancellationToken)
    {
        var root = _disk.Root;
        if (destination.StartsWith(root.TrimEnd(Path.DirectorySeparatorChar) + Path.DirectorySeparatorChar, StringComparison.Ordinal))
        {
            throw new ArgumentException($"The backup folder '{destination}' is inside the store's root; choose a folder outside it.", "destinationPath");
        }

        return RunAsync(_ =>
        {
            CopyFolder(root, destination, isRoot: true);
            return true;
        }, cancellationToken);
    }

    private static void CopyFolder(string source, string destination, bool isRoot)
    {
        Directory.CreateDirectory(destination);
        foreach (var file in Directory.EnumerateFiles(source))
        {
            var name = Path.GetFileName(file);
            if ((isRoot && name == LockFile) || name.EndsWith(".tmp", StringComparison.Ordinal) || name.EndsWith(".bak", StringComparison.Ordinal))
            {
                continue;
            }

            var target = Path.Combine(destination, name);
            File.Copy(file, target);
            using var stream = new FileStream(target, FileMode.Open, FileAccess.ReadWrite, FileShare.None);
            stream.Flush(flushToDisk: true);
        }

        foreach (var folder in Directory.EnumerateDirectories(source))
        {
            CopyFolder(folder, Path.Combine(destination, Path.GetFileName(folder)), isRoot: false);
        }

        NativeMethods.FsyncDirectory(destination);
    }

    /// <summary>The result of a queue operation on this store, which completes synchronously under the store's lock.</summary>
    private static T Sync<T>(ValueTask<T> operation) =>
        operation.IsCompleted ? operation.Result : throw new InvalidOperationException("A files-store queue operation did not complete synchronously.");

    private static void Sync(ValueTask operation)
    {
        if (!operation.IsCompleted)
        {
            throw new InvalidOperationException("A files-store queue operation did not complete synchronously.");
        }
    }
}
