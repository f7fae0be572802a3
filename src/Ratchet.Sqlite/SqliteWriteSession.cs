using Microsoft.Data.Sqlite;
using Ratchet.Serialization;

namespace Ratchet.Sqlite;

/// <summary>
/// The writer connection and its prepared statements. Everything here runs on the writer's single loop, inside the
/// batch transaction that <see cref="SqliteWriter"/> opened; it is never touched by two threads at once.
/// </summary>
internal sealed partial class SqliteWriteSession : IDisposable
{
    private readonly SqliteConnection _connection;
    private readonly TimeProvider _clock;
    private readonly Dictionary<string, Statement> _statements = new(StringComparer.Ordinal);
    private readonly Dictionary<ulong, Statement> _updates = [];
    private readonly WriterCache _cache = new();
    private long _dataVersion = -1;

    public SqliteWriteSession(SqliteConnection connection, TimeProvider clock)
    {
        _connection = connection;
        _clock = clock;
    }

    public DateTimeOffset Now => _clock.GetStoreNow();

    public void Execute(string sql) => Prepared(sql).Execute();

    /// <summary>Called right after BEGIN: if another connection committed since our last transaction, what we cached is stale.</summary>
    public void TransactionStarted()
    {
        var version = (long)Prepared("PRAGMA data_version;").Scalar()!;
        if (version != _dataVersion)
        {
            _cache.Clear();
            _dataVersion = version;
        }
    }

    /// <summary>The transaction did not commit: nothing cached from it can be trusted.</summary>
    public void TransactionFailed() => _cache.Clear();

    /// <summary>An operation committed to the transaction (its savepoint released).</summary>
    public void OperationSucceeded() => _cache.KeepStaged();

    /// <summary>An operation was rolled back.</summary>
    public void OperationFailed() => _cache.DropStaged();

    public void RollbackToSavepoint(string name)
    {
        Prepared($"ROLLBACK TO {name};").Execute();
        Prepared($"RELEASE {name};").Execute();
    }

    // ---- change sets -------------------------------------------------------------------------------------------

    public void Apply(ChangeSet changes)
    {
        // Conditions first, so that a change set may check and write the same workflow or key.
        foreach (var check in changes.Checks)
        {
            CheckWorkflowVersion(check.WorkflowId, check.ExpectedVersion);
        }

        foreach (var check in changes.ValueChecks)
        {
            CheckValueVersion(check.Namespace, check.Key, check.ExpectedVersion);
        }

        foreach (var write in changes.Workflows)
        {
            if (write.Kind == WorkflowWriteKind.Create)
            {
                CreateWorkflow(write.Record);
            }
            else
            {
                UpdateWorkflow(write.Record, write.Lease);
            }
        }

        if (changes.Steps.Count > 0)
        {
            var insert = Prepared(StepInsert);
            foreach (var step in changes.Steps)
            {
                var key = WorkflowKey(step.WorkflowId);
                insert.BindStep(key, NextSequence(SequenceKind.Step, "steps", step.WorkflowId, key), step).Execute();
            }
        }

        if (changes.Events.Count > 0)
        {
            var insert = Prepared(EventInsert);
            foreach (var auditEvent in changes.Events)
            {
                var key = WorkflowKey(auditEvent.WorkflowId);
                insert.BindEvent(key, NextSequence(SequenceKind.Event, "events", auditEvent.WorkflowId, key), auditEvent).Execute();
            }
        }

        if (changes.Commands.Count > 0)
        {
            var insert = Prepared(CommandInsert);
            foreach (var command in changes.Commands)
            {
                var key = WorkflowKey(command.WorkflowId);
                insert.BindCommand(key, NextSequence(SequenceKind.Command, "commands", command.WorkflowId, key), command).Execute();
            }
        }

        if (changes.HasSignals)
        {
            ApplySignals(changes);
        }

        if (changes.Workspaces.Count > 0)
        {
            var upsert = Prepared($"""
                INSERT INTO workspaces ({WorkspaceColumns}) VALUES ($workflow_id, $path, $status, $created_at, $heartbeat_at)
                ON CONFLICT (workflow_id) DO UPDATE SET path = excluded.path, status = excluded.status,
                    created_at = excluded.created_at, heartbeat_at = excluded.heartbeat_at;
                """);
            foreach (var workspace in changes.Workspaces)
            {
                ForWorkflow(workspace.WorkflowId, () => upsert.BindWorkspace(workspace).Execute());
            }
        }

        if (changes.KeyValues.Count > 0)
        {
            var now = StoreTime.ToMicroseconds(Now);
            foreach (var write in changes.KeyValues)
            {
                if (write.ExpectedVersion is { } expected)
                {
                    CheckValueVersion(write.Namespace, write.Key, expected);
                }

                if (write.Value is { } value)
                {
                    SaveValue(write.Namespace, write.Key, RatchetJson.ToText(value)!, now);
                }
                else
                {
                    Prepared("DELETE FROM kv WHERE namespace = $ns AND key = $key;").Bind("$ns", write.Namespace).Bind("$key", write.Key).Execute();
                }
            }
        }
    }

    /// <summary>Consumes, then checks, then sends: the contract's order for a change set's signal operations.</summary>
    private void ApplySignals(ChangeSet changes)
    {
        foreach (var consume in changes.SignalConsumes)
        {
            var deleted = Prepared("DELETE FROM signals WHERE workflow = (SELECT pk FROM workflows WHERE id = $id) AND seq = $seq;")
                .Bind("$id", consume.WorkflowId).Bind("$seq", consume.Sequence).Execute();
            if (deleted == 0)
            {
                throw SignalConflictException.NotPending(consume.WorkflowId, consume.Sequence);
            }
        }

        foreach (var check in changes.SignalChecks)
        {
            var pending = Prepared("SELECT EXISTS (SELECT 1 FROM signals WHERE workflow = (SELECT pk FROM workflows WHERE id = $id) AND name = $name);")
                .Bind("$id", check.WorkflowId).Bind("$name", check.Name).Scalar();
            if (pending is long and not 0)
            {
                throw SignalConflictException.Pending(check.WorkflowId, check.Name);
            }
        }

        var insert = Prepared(SignalInsert);
        foreach (var signal in changes.Signals)
        {
            var key = WorkflowKey(signal.WorkflowId);
            // One more than the highest pending: consumed signals are deleted, and the order of those still pending is what counts.
            var seq = ((long?)Prepared("SELECT COALESCE(MAX(seq), 0) FROM signals WHERE workflow = $key;").Bind("$key", key).Scalar() ?? 0) + 1;
            insert.BindSignal(key, seq, signal).Execute();
        }
    }

    private void CreateWorkflow(WorkflowRecord record)
    {
        var values = WorkflowRow.Values(record);
        var insert = Prepared($"INSERT INTO workflows ({WorkflowColumns}) VALUES ({WorkflowValues}) ON CONFLICT (id) DO NOTHING;");
        var inserted = insert
            .BindWorkflow(record)
            .Bind("$lease_owner", record.LeaseOwner)
            .Bind("$lease_expires_at", Micros(record.LeaseExpiresAt))
            .Bind("$version", 1L)
            .Execute();
        if (inserted == 0)
        {
            throw new WorkflowAlreadyExistsException(record.Id);
        }

        _cache.StageNewWorkflow(record.Id, insert.LastInsertRowId, values);
    }

    /// <summary>The internal key journals reference; refuses a workflow that does not exist.</summary>
    private long WorkflowKey(string workflowId) =>
        _cache.TryGetWorkflow(workflowId, out var cached)
            ? cached.Key
            : (long?)Prepared("SELECT pk FROM workflows WHERE id = $id;").Bind("$id", workflowId).Scalar()
              ?? throw new WorkflowNotFoundException(workflowId);

    private long NextSequence(SequenceKind kind, string table, string workflowId, long key)
    {
        if (!_cache.TryGetSequence(kind, workflowId, out var last))
        {
            last = (long?)Prepared($"SELECT COALESCE(MAX(seq), 0) FROM {table} WHERE workflow = $key;").Bind("$key", key).Scalar() ?? 0;
        }

        _cache.StageSequence(kind, workflowId, last + 1);
        return last + 1;
    }

    /// <summary>
    /// Updates only the columns whose values differ from the stored row. SQLite rewrites every index that covers a
    /// column named in SET, changed or not; naming only changed columns keeps a step's commit from rewriting the
    /// status, type, creation and due-time indexes it did not touch. The writer holds the write lock, so reading the
    /// row and checking its version here is as atomic as a <c>WHERE version = $version</c> clause.
    /// </summary>
    /// <summary>
    /// Updates only the columns whose values differ from the stored row. SQLite rewrites every index that covers a
    /// column named in SET, changed or not; naming only changed columns keeps a step's commit from rewriting the
    /// status, type, creation and due-time indexes it did not touch. The writer holds the write lock, so reading the
    /// row and checking its version here is as atomic as a <c>WHERE version = $version</c> clause.
    /// </summary>
    private void UpdateWorkflow(WorkflowRecord record, LeaseAction lease)
    {
        var values = WorkflowRow.Values(record);
        ulong changed = 0;
        long key;
        if (_cache.TryGetWorkflow(record.Id, out var cached))
        {
            key = cached.Key;
            if (cached.Version != record.Version)
            {
                throw new WorkflowConcurrencyException(record.Id, record.Version, cached.Version);
            }

            for (var i = 0; i < values.Length; i++)
            {
                if (!Equals(cached.Values[i], values[i]))
                {
                    changed |= 1UL << i;
                }
            }
        }
        else
        {
            var current = Prepared($"SELECT version, {WorkflowRow.MutableColumnList}, pk FROM workflows WHERE id = $id;").Bind("$id", record.Id);
            using var rows = current.Query();
            if (!rows.Read())
            {
                throw new WorkflowNotFoundException(record.Id);
            }

            var actual = current.GetInt64(0);
            if (actual != record.Version)
            {
                throw new WorkflowConcurrencyException(record.Id, record.Version, actual);
            }

            for (var i = 0; i < values.Length; i++)
            {
                if (!WorkflowRow.SameValue(current, i + 1, values[i]))
                {
                    changed |= 1UL << i;
                }
            }

            key = current.GetInt64(values.Length + 1);
        }

        var shape = (changed << 1) | (lease == LeaseAction.Release ? 1UL : 0UL);
        if (!_updates.TryGetValue(shape, out var update))
        {
            update = new Statement(_connection, WorkflowRow.UpdateSql(changed, lease));
            _updates[shape] = update;
        }

        update.Bind("$id", record.Id);
        for (var i = 0; i < values.Length; i++)
        {
            if ((changed & (1UL << i)) != 0)
            {
                update.Bind(WorkflowRow.Parameters[i], values[i]);
            }
        }

        update.Execute();
        _cache.StageWorkflow(record.Id, key, record.Version + 1, values);
    }

    private void CheckWorkflowVersion(string id, long expected)
    {
        var actual = WorkflowVersion(id);
        if (actual is null && expected > 0)
        {
            throw new WorkflowNotFoundException(id);
        }

        if ((actual ?? 0) != expected)
        {
            throw new WorkflowConcurrencyException(id, expected, actual ?? 0);
        }
    }

    private void CheckValueVersion(string @namespace, string key, long expected)
    {
        var actual = (long?)Prepared("SELECT version FROM kv WHERE namespace = $ns AND key = $key;")
            .Bind("$ns", @namespace).Bind("$key", key).Scalar() ?? 0;
        if (actual != expected)
        {
            throw new KeyValueConcurrencyException(@namespace, key, expected, actual);
        }
    }

    private long? WorkflowVersion(string id) =>
        _cache.TryGetWorkflow(id, out var cached)
            ? cached.Version
            : (long?)Prepared("SELECT version FROM workflows WHERE id = $id;").Bind("$id", id).Scalar();

    private void SaveValue(string @namespace, string key, string valueText, long nowMicros) =>
        Prepared("""
            INSERT INTO kv (namespace, key, value, version, updated_at) VALUES ($ns, $key, $value, 1, $now)
            ON CONFLICT (namespace, key) DO UPDATE SET value = excluded.value, version = kv.version + 1, updated_at = excluded.updated_at;
            """)
            .Bind("$ns", @namespace).Bind("$key", key).Bind("$value", valueText).Bind("$now", nowMicros)
            .Execute();

    /// <summary>Runs an insert that references a workflow, turning a foreign-key failure into "no such workflow".</summary>
    private static void ForWorkflow(string workflowId, Func<int> insert)
    {
        try
        {
            insert();
        }
        catch (SqliteException ex) when (SqliteErrors.IsForeignKey(ex))
        {
            throw new WorkflowNotFoundException(workflowId);
        }
    }

    // ---- leases ------------------------------------------------------------------------------------------------

    public IReadOnlyList<WorkflowRecord> ClaimDue(LeaseRequest request)
    {
        var now = StoreTime.ToMicroseconds(Now);
        var expires = StoreTime.ToMicroseconds(Now + request.Duration);
        var typed = request.Types is { Count: > 0 };

        // Queues first: their workflows are few and limited, and would starve behind a backlog of the others.
        var claimed = ClaimQueued(request, now, expires);
        if (claimed.Count >= request.MaxCount)
        {
            return claimed;
        }

        var statement = Prepared($"""
            UPDATE workflows SET lease_owner = $owner, lease_expires_at = $expires, version = version + 1
            WHERE id IN (
                SELECT id FROM workflows INDEXED BY ix_workflows_due
                WHERE due_at IS NOT NULL AND archived_at IS NULL AND due_at <= $now
                  AND status NOT IN {TerminalStatuses}
                  AND (lease_owner IS NULL OR lease_expires_at <= $now) AND queue IS NULL
                  {(typed ? "AND type IN (SELECT value FROM json_each($types))" : "")}
                ORDER BY due_at, id
                LIMIT $limit)
            RETURNING {WorkflowColumns};
            """)
            .Bind("$owner", request.Owner).Bind("$expires", expires).Bind("$now", now).Bind("$limit", request.MaxCount - claimed.Count);
        if (typed)
        {
            statement.Bind("$types", TypesJson(request.Types));
        }

        claimed.AddRange(ReadWorkflows(statement));
        foreach (var workflow in claimed)
        {
            _cache.Forget(workflow.Id);
        }

        claimed.Sort(static (a, b) =>
        {
            var byDue = Nullable.Compare(a.DueAt, b.DueAt);
            return byDue != 0 ? byDue : string.CompareOrdinal(a.Id, b.Id);
        });
        return claimed;
    }

    public WorkflowRecord? ClaimOne(string id, string owner, TimeSpan duration)
    {
        var now = Now;
        if (!AdmitsOne(id, owner, StoreTime.ToMicroseconds(now)))
        {
            return null;
        }

        var claimed = ReadWorkflows(Prepared($"""
            UPDATE workflows SET lease_owner = $owner, lease_expires_at = $expires, version = version + 1
            WHERE id = $id AND (lease_owner IS NULL OR lease_owner = $owner OR lease_expires_at <= $now)
            RETURNING {WorkflowColumns};
            """)
            .Bind("$id", id).Bind("$owner", owner)
            .Bind("$expires", StoreTime.ToMicroseconds(now + duration)).Bind("$now", StoreTime.ToMicroseconds(now)));
        _cache.Forget(id);
        if (claimed.Count == 1)
        {
            return claimed[0];
        }

        return WorkflowVersion(id) is null ? throw new WorkflowNotFoundException(id) : null;
    }

    public bool Renew(string id, string owner, TimeSpan duration) =>
        Prepared("UPDATE workflows SET lease_expires_at = $expires WHERE id = $id AND lease_owner = $owner;")
            .Bind("$id", id).Bind("$owner", owner).Bind("$expires", StoreTime.ToMicroseconds(Now + duration))
            .Execute() == 1;

    public int RenewAll(string owner, TimeSpan duration) =>
        Prepared("UPDATE workflows SET lease_expires_at = $expires WHERE lease_owner = $owner;")
            .Bind("$owner", owner).Bind("$expires", StoreTime.ToMicroseconds(Now + duration))
            .Execute();

    public bool Release(string id, string owner) =>
        Prepared("UPDATE workflows SET lease_owner = NULL, lease_expires_at = NULL WHERE id = $id AND lease_owner = $owner;")
            .Bind("$id", id).Bind("$owner", owner)
            .Execute() == 1;

    // ---- checkpoints -------------------------------------------------------------------------------------------

    public CheckpointInfo CreateCheckpoint(string @namespace, string name)
    {
        var entries = new Dictionary<string, System.Text.Json.JsonElement>(StringComparer.Ordinal);
        var select = Prepared("SELECT key, value FROM kv WHERE namespace = $ns ORDER BY key;").Bind("$ns", @namespace);
        using (var rows = select.Query())
        {
            while (rows.Read())
            {
                entries[select.GetString(0)] = RatchetJson.ParseDocument(select.GetString(1));
            }
        }

        var now = Now;
        Prepared("""
            INSERT INTO checkpoints (namespace, name, created_at, entry_count, entries) VALUES ($ns, $name, $at, $count, $entries)
            ON CONFLICT (namespace, name) DO UPDATE SET created_at = excluded.created_at, entry_count = excluded.entry_count, entries = excluded.entries;
            """)
            .Bind("$ns", @namespace).Bind("$name", name).Bind("$at", StoreTime.ToMicroseconds(now))
            .Bind("$count", entries.Count).Bind("$entries", RatchetJson.MapToText(entries))
            .Execute();
        return new CheckpointInfo { Namespace = @namespace, Name = name, CreatedAt = now, EntryCount = entries.Count };
    }

    public void RestoreCheckpoint(string @namespace, string name)
    {
        var text = (string?)Prepared("SELECT entries FROM checkpoints WHERE namespace = $ns AND name = $name;")
            .Bind("$ns", @namespace).Bind("$name", name).Scalar()
            ?? throw new CheckpointNotFoundException(@namespace, name);
        var entries = RatchetJson.ParseMap(text);
        var existing = new List<string>();
        var keys = Prepared("SELECT key FROM kv WHERE namespace = $ns;").Bind("$ns", @namespace);
        using (var rows = keys.Query())
        {
            while (rows.Read())
            {
                existing.Add(keys.GetString(0));
            }
        }

        var delete = Prepared("DELETE FROM kv WHERE namespace = $ns AND key = $key;");
        foreach (var key in existing.Where(k => !entries.ContainsKey(k)))
        {
            delete.Bind("$ns", @namespace).Bind("$key", key).Execute();
        }

        var now = StoreTime.ToMicroseconds(Now);
        foreach (var (key, value) in entries)
        {
            SaveValue(@namespace, key, value.GetRawText(), now);
        }
    }

    public bool DeleteCheckpoint(string @namespace, string name) =>
        Prepared("DELETE FROM checkpoints WHERE namespace = $ns AND name = $name;").Bind("$ns", @namespace).Bind("$name", name).Execute() == 1;

    // ---- maintenance -------------------------------------------------------------------------------------------

    public int Archive(DateTimeOffset olderThan)
    {
        var now = Now;
        var ids = new List<string>();
        var due = Prepared($"""
            SELECT id FROM workflows
            WHERE completed_at IS NOT NULL AND archived_at IS NULL AND completed_at < $cutoff AND status IN {TerminalStatuses}
            ORDER BY id;
            """).Bind("$cutoff", StoreTime.ToMicroseconds(olderThan));
        using (var rows = due.Query())
        {
            while (rows.Read())
            {
                ids.Add(due.GetString(0));
            }
        }

        var archive = Prepared("UPDATE workflows SET archived_at = $now, updated_at = $now, version = version + 1 WHERE id = $id;");
        var changes = new ChangeSet();
        foreach (var id in ids)
        {
            _cache.Forget(id);
            archive.Bind("$id", id).Bind("$now", StoreTime.ToMicroseconds(now)).Execute();
            changes.AppendEvent(new AuditEvent { WorkflowId = id, Type = AuditEventTypes.Archived, At = now });
        }

        Apply(changes);
        return ids.Count;
    }

    public bool Delete(string id)
    {
        _cache.Forget(id);
        return Prepared("DELETE FROM workflows WHERE id = $id;").Bind("$id", id).Execute() == 1;
    }

    public void Import(StoreSnapshot snapshot, ImportMode mode, string description)
    {
        _cache.Clear();
        var hasData = Prepared("""
            SELECT EXISTS (SELECT 1 FROM workflows) OR EXISTS (SELECT 1 FROM kv) OR EXISTS (SELECT 1 FROM checkpoints);
            """).Scalar() is long and not 0;
        if (hasData && mode != ImportMode.Merge)
        {
            throw new StoreNotEmptyException(description);
        }

        // In a merge, a workflow the target already has keeps all of its own records.
        var imported = new Dictionary<string, long>(StringComparer.Ordinal);
        var insertWorkflow = Prepared($"INSERT INTO workflows ({WorkflowColumns}) VALUES ({WorkflowValues}) ON CONFLICT (id) DO NOTHING;");
        foreach (var workflow in snapshot.Workflows)
        {
            if (insertWorkflow.BindWorkflow(workflow)
                .Bind("$lease_owner", workflow.LeaseOwner)
                .Bind("$lease_expires_at", Micros(workflow.LeaseExpiresAt))
                .Bind("$version", workflow.Version)
                .Execute() == 1)
            {
                imported[workflow.Id] = insertWorkflow.LastInsertRowId;
            }
        }

        var insertStep = Prepared(StepInsert);
        foreach (var step in snapshot.Steps.Where(s => imported.ContainsKey(s.WorkflowId)))
        {
            insertStep.BindStep(imported[step.WorkflowId], step.Sequence, step).Execute();
        }

        var insertEvent = Prepared(EventInsert);
        foreach (var auditEvent in snapshot.Events.Where(e => imported.ContainsKey(e.WorkflowId)))
        {
            insertEvent.BindEvent(imported[auditEvent.WorkflowId], auditEvent.Sequence, auditEvent).Execute();
        }

        var insertCommand = Prepared(CommandInsert);
        foreach (var command in snapshot.Commands.Where(c => imported.ContainsKey(c.WorkflowId)))
        {
            insertCommand.BindCommand(imported[command.WorkflowId], command.Sequence, command).Execute();
        }

        var insertSignal = Prepared(SignalInsert);
        foreach (var signal in snapshot.Signals.Where(g => imported.ContainsKey(g.WorkflowId)))
        {
            insertSignal.BindSignal(imported[signal.WorkflowId], signal.Sequence, signal).Execute();
        }

        var insertWorkspace = Prepared($"INSERT INTO workspaces ({WorkspaceColumns}) VALUES ($workflow_id, $path, $status, $created_at, $heartbeat_at) ON CONFLICT DO NOTHING;");
        foreach (var workspace in snapshot.Workspaces.Where(w => imported.ContainsKey(w.WorkflowId)))
        {
            insertWorkspace.BindWorkspace(workspace).Execute();
        }

        var insertValue = Prepared("INSERT INTO kv (namespace, key, value, version, updated_at) VALUES ($ns, $key, $value, $version, $at) ON CONFLICT DO NOTHING;");
        foreach (var entry in snapshot.Values)
        {
            insertValue.Bind("$ns", entry.Namespace).Bind("$key", entry.Key).Bind("$value", entry.Value.GetRawText())
                .Bind("$version", entry.Version).Bind("$at", StoreTime.ToMicroseconds(entry.UpdatedAt)).Execute();
        }

        var insertCheckpoint = Prepared("INSERT INTO checkpoints (namespace, name, created_at, entry_count, entries) VALUES ($ns, $name, $at, $count, $entries) ON CONFLICT DO NOTHING;");
        foreach (var checkpoint in snapshot.Checkpoints)
        {
            insertCheckpoint.Bind("$ns", checkpoint.Namespace).Bind("$name", checkpoint.Name)
                .Bind("$at", StoreTime.ToMicroseconds(checkpoint.CreatedAt)).Bind("$count", checkpoint.Entries.Count)
                .Bind("$entries", RatchetJson.MapToText(checkpoint.Entries)).Execute();
        }
    }

    public void Dispose()
    {
        foreach (var statement in _statements.Values.Concat(_updates.Values))
        {
            statement.Dispose();
        }

        _statements.Clear();
        _updates.Clear();
    }

    private Statement Prepared(string sql)
    {
        if (!_statements.TryGetValue(sql, out var statement))
        {
            statement = new Statement(_connection, sql);
            _statements[sql] = statement;
        }

        return statement;
    }

    private static List<WorkflowRecord> ReadWorkflows(Statement statement)
    {
        var result = new List<WorkflowRecord>();
        using var rows = statement.Query();
        while (rows.Read())
        {
            result.Add(ReadWorkflow(statement));
        }

        return result;
    }
}
