using System.Globalization;
using Ratchet.Serialization;
using Ratchet.Storage;

namespace Ratchet.Redis;

public sealed partial class RedisRatchetStore
{
    /// <inheritdoc />
    /// <remarks>One script call (<c>commit.lua</c>): every check first, then every write, or nothing.</remarks>
    protected override async Task CommitCoreAsync(ChangeSet changes, CancellationToken cancellationToken)
    {
        var args = new List<string>(32 + (changes.Workflows.Count * 16)) { _prefix, NowMicros() };
        args.Add(Count(changes.Checks.Count));
        foreach (var check in changes.Checks)
        {
            args.Add(check.WorkflowId);
            args.Add(Text(check.ExpectedVersion));
        }

        args.Add(Count(changes.ValueChecks.Count));
        foreach (var check in changes.ValueChecks)
        {
            args.Add(check.Namespace);
            args.Add(check.Key);
            args.Add(Text(check.ExpectedVersion));
        }

        args.Add(Count(changes.Workflows.Count));
        foreach (var write in changes.Workflows)
        {
            var record = StoreRecords.Truncate(write.Record);
            var create = write.Kind == WorkflowWriteKind.Create;
            args.Add(create ? "c" : "u");
            args.Add(record.Id);
            args.Add(Text(record.Version));
            args.Add(write.Lease == LeaseAction.Release ? "r" : "k");
            RedisRecords.AddWorkflowFields(args, record);
            args.Add(create ? record.LeaseOwner ?? "" : "");
            args.Add(create && record.LeaseOwner is not null ? RedisRecords.Micros(record.LeaseExpiresAt) : "");
            args.Add(create ? RedisRecords.QueueField(record) : "");
        }

        AddRecords(args, changes.Steps, static s => s.WorkflowId, RedisRecords.StepJson);
        AddRecords(args, changes.Events, static e => e.WorkflowId, RedisRecords.EventJson);
        AddRecords(args, changes.Commands, static c => c.WorkflowId, RedisRecords.CommandJson);
        AddRecords(args, changes.Workspaces, static w => w.WorkflowId, RedisRecords.WorkspaceJson);

        args.Add(Count(changes.KeyValues.Count));
        foreach (var write in changes.KeyValues)
        {
            args.Add(write.Value is null ? "d" : "s");
            args.Add(write.Namespace);
            args.Add(write.Key);
            args.Add(write.ExpectedVersion is { } expected ? Text(expected) : "");
            args.Add(RatchetJson.ToText(write.Value) ?? "");
        }

        AddRecords(args, changes.SignalConsumes, static c => c.WorkflowId, static c => Text(c.Sequence));
        AddRecords(args, changes.SignalChecks, static c => c.WorkflowId, static c => c.Name);
        AddRecords(args, changes.Signals, static g => g.WorkflowId, RedisRecords.SignalEntry);

        var reply = (await EvaluateAsync(RedisScripts.Commit, args, cancellationToken).ConfigureAwait(false)).AsArray();
        switch (reply[0].AsText())
        {
            case "ok":
                return;
            case "notfound":
                throw new WorkflowNotFoundException(reply[1].AsText());
            case "exists":
                throw new WorkflowAlreadyExistsException(reply[1].AsText());
            case "conflict":
                throw new WorkflowConcurrencyException(reply[1].AsText(), reply[2].AsInteger(), reply[3].AsInteger());
            case "kvconflict":
                throw new KeyValueConcurrencyException(reply[1].AsText(), reply[2].AsText(), reply[3].AsInteger(), reply[4].AsInteger());
            case "signotpending":
                throw SignalConflictException.NotPending(reply[1].AsText(), long.Parse(reply[2].AsText(), CultureInfo.InvariantCulture));
            case "sigpending":
                throw SignalConflictException.Pending(reply[1].AsText(), reply[2].AsText());
            default:
                throw new StoreOperationException($"The Redis store {Description} answered a commit with '{reply[0].AsText()}', which this Ratchet does not know.");
        }
    }

    // ---- leases ------------------------------------------------------------------------------------------------

    /// <inheritdoc />
    protected override async Task<IReadOnlyList<WorkflowRecord>> ClaimDueWorkflowsCoreAsync(LeaseRequest request, CancellationToken cancellationToken)
    {
        var now = _options.TimeProvider.GetStoreNow();
        var types = request.Types is { Count: > 0 } t ? t : [];
        var args = new List<string>(8 + types.Count)
        {
            _prefix, RedisRecords.Micros(now), request.Owner, RedisRecords.Micros(now + request.Duration),
            Count(request.MaxCount), Count(types.Count),
        };
        args.AddRange(types);
        var reply = await EvaluateAsync(RedisScripts.ClaimDue, args, cancellationToken).ConfigureAwait(false);
        return ParseRecords(reply);
    }

    /// <inheritdoc />
    protected override async Task<WorkflowRecord?> ClaimWorkflowCoreAsync(string workflowId, string owner, TimeSpan duration, CancellationToken cancellationToken)
    {
        var now = _options.TimeProvider.GetStoreNow();
        var reply = (await EvaluateAsync(RedisScripts.ClaimOne,
            [_prefix, RedisRecords.Micros(now), workflowId, owner, RedisRecords.Micros(now + duration)], cancellationToken).ConfigureAwait(false)).AsArray();
        return reply[0].AsText() switch
        {
            "ok" => ParseRecord(reply[1]),
            "held" => null,
            _ => throw new WorkflowNotFoundException(workflowId),
        };
    }

    /// <inheritdoc />
    protected override async Task<bool> RenewLeaseCoreAsync(string workflowId, string owner, TimeSpan duration, CancellationToken cancellationToken) =>
        await LeaseAsync("renew", owner, workflowId, duration, cancellationToken).ConfigureAwait(false) == 1;

    /// <inheritdoc />
    protected override async Task<int> RenewLeasesCoreAsync(string owner, TimeSpan duration, CancellationToken cancellationToken) =>
        (int)await LeaseAsync("renew-all", owner, "", duration, cancellationToken).ConfigureAwait(false);

    /// <inheritdoc />
    protected override async Task<bool> ReleaseLeaseCoreAsync(string workflowId, string owner, CancellationToken cancellationToken) =>
        await LeaseAsync("release", owner, workflowId, TimeSpan.Zero, cancellationToken).ConfigureAwait(false) == 1;

    private async Task<long> LeaseAsync(string operation, string owner, string workflowId, TimeSpan duration, CancellationToken cancellationToken)
    {
        var now = _options.TimeProvider.GetStoreNow();
        var reply = await EvaluateAsync(RedisScripts.Lease,
            [_prefix, RedisRecords.Micros(now), operation, owner, workflowId, RedisRecords.Micros(now + duration)], cancellationToken).ConfigureAwait(false);
        return reply.AsInteger();
    }

    // ---- checkpoints -------------------------------------------------------------------------------------------

    /// <inheritdoc />
    protected override async Task<CheckpointInfo> CreateCheckpointCoreAsync(string @namespace, string name, CancellationToken cancellationToken)
    {
        var now = _options.TimeProvider.GetStoreNow();
        var count = (await EvaluateAsync(RedisScripts.Checkpoint, [_prefix, RedisRecords.Micros(now), "create", @namespace, name], cancellationToken).ConfigureAwait(false)).AsInteger();
        return new CheckpointInfo { Namespace = @namespace, Name = name, CreatedAt = now, EntryCount = (int)count };
    }

    /// <inheritdoc />
    protected override async Task RestoreCheckpointCoreAsync(string @namespace, string name, CancellationToken cancellationToken)
    {
        var result = (await EvaluateAsync(RedisScripts.Checkpoint, [_prefix, NowMicros(), "restore", @namespace, name], cancellationToken).ConfigureAwait(false)).AsInteger();
        if (result < 0)
        {
            throw new CheckpointNotFoundException(@namespace, name);
        }
    }

    /// <inheritdoc />
    protected override async Task<bool> DeleteCheckpointCoreAsync(string @namespace, string name, CancellationToken cancellationToken) =>
        (await EvaluateAsync(RedisScripts.Checkpoint, [_prefix, NowMicros(), "delete", @namespace, name], cancellationToken).ConfigureAwait(false)).AsInteger() == 1;

    // ---- maintenance -------------------------------------------------------------------------------------------

    /// <inheritdoc />
    /// <remarks>
    /// Reads the candidates from the completion index, then archives them in one script that checks each again, so a
    /// workflow changed in between is archived only if it still qualifies.
    /// </remarks>
    public override async Task<int> ArchiveWorkflowsAsync(DateTimeOffset olderThan, CancellationToken cancellationToken = default)
    {
        var cutoff = StoreTime.ToMicroseconds(olderThan);
        var candidates = await _client.SortedSetRangeByScoreAsync(_prefix + "done", double.NegativeInfinity, cutoff, 0, -1, cancellationToken).ConfigureAwait(false);
        if (candidates.Count == 0)
        {
            return 0;
        }

        var now = _options.TimeProvider.GetStoreNow();
        var args = new List<string>(4 + (candidates.Count * 2)) { _prefix, RedisRecords.Micros(now), "archive", Text(cutoff) };
        foreach (var id in candidates.Order(StringComparer.Ordinal))
        {
            args.Add(id);
            args.Add(RedisRecords.EventJson(new AuditEvent { WorkflowId = id, Type = AuditEventTypes.Archived, At = now }));
        }

        return (int)(await EvaluateAsync(RedisScripts.Maintenance, args, cancellationToken).ConfigureAwait(false)).AsInteger();
    }

    /// <inheritdoc />
    protected override async Task<bool> DeleteWorkflowCoreAsync(string workflowId, CancellationToken cancellationToken) =>
        (await EvaluateAsync(RedisScripts.Maintenance, [_prefix, NowMicros(), "delete", workflowId], cancellationToken).ConfigureAwait(false)).AsInteger() == 1;

    /// <inheritdoc />
    /// <remarks>One script: the emptiness check and every write happen atomically, however large the snapshot.</remarks>
    protected override async Task ImportCoreAsync(StoreSnapshot snapshot, ImportMode mode, CancellationToken cancellationToken)
    {
        var args = new List<string>(1024) { _prefix, mode == ImportMode.Merge ? "m" : "e" };

        // In a merge, a workflow the target already has keeps all of its own records (the script skips it).
        var workflows = new List<WorkflowRecord>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var workflow in snapshot.Workflows)
        {
            if (seen.Add(workflow.Id))
            {
                workflows.Add(workflow);
            }
        }

        var steps = snapshot.Steps.ToLookup(s => s.WorkflowId, StringComparer.Ordinal);
        var events = snapshot.Events.ToLookup(e => e.WorkflowId, StringComparer.Ordinal);
        var commands = snapshot.Commands.ToLookup(c => c.WorkflowId, StringComparer.Ordinal);
        var signals = snapshot.Signals.ToLookup(g => g.WorkflowId, StringComparer.Ordinal);
        var workspaces = new Dictionary<string, WorkspaceRecord>(StringComparer.Ordinal);
        foreach (var workspace in snapshot.Workspaces)
        {
            workspaces.TryAdd(workspace.WorkflowId, workspace);
        }

        args.Add(Count(workflows.Count));
        foreach (var raw in workflows)
        {
            var workflow = StoreRecords.Truncate(raw);
            args.Add(workflow.Id);
            var fields = new List<string>(10);
            RedisRecords.AddWorkflowFields(fields, workflow);
            args.Add(fields[0]);
            args.Add(Text(workflow.Version));
            args.AddRange(fields.Skip(1));
            args.Add(workflow.LeaseOwner ?? "");
            args.Add(workflow.LeaseOwner is null ? "" : RedisRecords.Micros(workflow.LeaseExpiresAt));
            args.Add(RedisRecords.QueueField(workflow));
            args.Add(workspaces.TryGetValue(workflow.Id, out var workspace) ? RedisRecords.WorkspaceJson(workspace) : "");
            AddJournal(args, steps[workflow.Id].Select(s => (s.Sequence, RedisRecords.StepJson(s))));
            AddJournal(args, events[workflow.Id].Select(e => (e.Sequence, RedisRecords.EventJson(e))));
            AddJournal(args, commands[workflow.Id].Select(c => (c.Sequence, RedisRecords.CommandJson(c))));
            AddJournal(args, signals[workflow.Id].Select(g => (g.Sequence, RedisRecords.SignalEntry(g))));
        }

        args.Add(Count(snapshot.Values.Count));
        foreach (var entry in snapshot.Values)
        {
            args.Add(entry.Namespace);
            args.Add(entry.Key);
            args.Add(Text(entry.Version));
            args.Add(RedisRecords.Micros(entry.UpdatedAt));
            args.Add(entry.Value.GetRawText());
        }

        args.Add(Count(snapshot.Checkpoints.Count));
        foreach (var checkpoint in snapshot.Checkpoints)
        {
            args.Add(checkpoint.Namespace);
            args.Add(checkpoint.Name);
            args.Add(RedisRecords.Micros(checkpoint.CreatedAt));
            args.Add(Count(checkpoint.Entries.Count));
            foreach (var (key, value) in checkpoint.Entries)
            {
                args.Add(key);
                args.Add(value.GetRawText());
            }
        }

        var reply = await EvaluateAsync(RedisScripts.Import, args, cancellationToken).ConfigureAwait(false);
        if (reply.AsText() == "notempty")
        {
            throw new StoreNotEmptyException(Description);
        }
    }

    /// <summary>A count, then each record as its workflow id and JSON: how the commit script reads appended records.</summary>
    private static void AddRecords<T>(List<string> args, IReadOnlyList<T> records, Func<T, string> workflowId, Func<T, string> json)
    {
        args.Add(Count(records.Count));
        foreach (var record in records)
        {
            args.Add(workflowId(record));
            args.Add(json(record));
        }
    }

    private static void AddJournal(List<string> args, IEnumerable<(long Sequence, string Json)> entries)
    {
        var list = entries.ToList();
        args.Add(Count(list.Count));
        foreach (var (sequence, json) in list)
        {
            args.Add(Text(sequence));
            args.Add(json);
        }
    }

    /// <inheritdoc />
    /// <remarks>
    /// Writes the export (one atomic read of everything) as a snapshot JSON file at the destination;
    /// <c>ratchet state import</c> or <see cref="RatchetStoreBase.ImportAsync"/> restores it into any store.
    /// </remarks>
    protected override Task BackupCoreAsync(string destination, CancellationToken cancellationToken) =>
        WriteSnapshotBackupAsync(destination, cancellationToken);

    private static string Count(int count) => count.ToString(CultureInfo.InvariantCulture);
}
