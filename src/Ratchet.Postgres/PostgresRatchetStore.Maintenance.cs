using System.Text.Json;
using Npgsql;
using Ratchet.Serialization;

namespace Ratchet.Postgres;

public sealed partial class PostgresRatchetStore
{
    // Large imports are sent in batches of this many statements: few round trips, bounded memory per batch.
    private const int ImportBatchSize = 500;

    /// <inheritdoc />
    protected override Task<CheckpointInfo> CreateCheckpointCoreAsync(string @namespace, string name, CancellationToken cancellationToken)
    {
        var now = Now;
        return RunAsync(async (connection, token) =>
        {
            await using var transaction = await connection.BeginTransactionAsync(System.Data.IsolationLevel.RepeatableRead, token);
            var entries = new Dictionary<string, JsonElement>(StringComparer.Ordinal);
            await using (var select = new NpgsqlCommand("SELECT key, value FROM kv WHERE namespace = $1 ORDER BY key", connection))
            {
                select.Parameters.Add(Text(@namespace));
                await using var reader = await select.ExecuteReaderAsync(token);
                while (await reader.ReadAsync(token))
                {
                    entries[reader.GetString(0)] = RatchetJson.ParseDocument(reader.GetString(1));
                }
            }

            await using (var upsert = new NpgsqlCommand("""
                INSERT INTO checkpoints (namespace, name, created_at, entry_count, entries) VALUES ($1, $2, $3, $4, $5)
                ON CONFLICT (namespace, name) DO UPDATE SET created_at = excluded.created_at, entry_count = excluded.entry_count, entries = excluded.entries
                """, connection))
            {
                upsert.Parameters.Add(Text(@namespace));
                upsert.Parameters.Add(Text(name));
                upsert.Parameters.Add(Time(now));
                upsert.Parameters.Add(Integer(entries.Count));
                upsert.Parameters.Add(Text(RatchetJson.MapToText(entries)));
                await upsert.ExecuteNonQueryAsync(token);
            }

            await transaction.CommitAsync(token);
            return new CheckpointInfo { Namespace = @namespace, Name = name, CreatedAt = now, EntryCount = entries.Count };
        }, cancellationToken);
    }

    /// <inheritdoc />
    protected override Task RestoreCheckpointCoreAsync(string @namespace, string name, CancellationToken cancellationToken)
    {
        var now = Now;
        return RunAsync(async (connection, token) =>
        {
            await using var transaction = await connection.BeginTransactionAsync(token);
            string entriesText;
            await using (var select = new NpgsqlCommand("SELECT entries FROM checkpoints WHERE namespace = $1 AND name = $2 FOR SHARE", connection))
            {
                select.Parameters.Add(Text(@namespace));
                select.Parameters.Add(Text(name));
                entriesText = await select.ExecuteScalarAsync(token) as string ?? throw new CheckpointNotFoundException(@namespace, name);
            }

            var entries = RatchetJson.ParseMap(entriesText);
            await using var batch = connection.CreateBatch();
            var delete = new NpgsqlBatchCommand("DELETE FROM kv WHERE namespace = $1 AND NOT (key = ANY($2))");
            delete.Parameters.Add(Text(@namespace));
            delete.Parameters.Add(TextArray([.. entries.Keys]));
            batch.BatchCommands.Add(delete);
            foreach (var (key, value) in entries)
            {
                var save = new NpgsqlBatchCommand(PostgresCommit.UpsertValueSql);
                save.Parameters.Add(Text(@namespace));
                save.Parameters.Add(Text(key));
                save.Parameters.Add(Text(value.GetRawText()));
                save.Parameters.Add(Time(now));
                batch.BatchCommands.Add(save);
            }

            await batch.ExecuteNonQueryAsync(token);
            await transaction.CommitAsync(token);
            return true;
        }, cancellationToken);
    }

    /// <inheritdoc />
    protected override Task<bool> DeleteCheckpointCoreAsync(string @namespace, string name, CancellationToken cancellationToken) =>
        ExecuteAsync("DELETE FROM checkpoints WHERE namespace = $1 AND name = $2", static n => n == 1, cancellationToken, Text(@namespace), Text(name));

    /// <inheritdoc />
    /// <remarks>One statement archives every qualifying workflow and appends its <c>archived</c> event.</remarks>
    public override Task<int> ArchiveWorkflowsAsync(DateTimeOffset olderThan, CancellationToken cancellationToken = default) =>
        ExecuteAsync($"""
            WITH a AS (
                UPDATE workflows SET archived_at = $2, updated_at = $2, version = version + 1, event_seq = event_seq + 1
                WHERE completed_at IS NOT NULL AND archived_at IS NULL AND completed_at < $1 AND status IN {TerminalStatuses}
                RETURNING id, event_seq)
            INSERT INTO events ({EventColumns}) SELECT id, event_seq, '{AuditEventTypes.Archived}', NULL, NULL, NULL, $2 FROM a
            """, static n => n, cancellationToken, Time(olderThan), Time(Now));

    /// <inheritdoc />
    protected override Task<bool> DeleteWorkflowCoreAsync(string workflowId, CancellationToken cancellationToken) =>
        ExecuteAsync("DELETE FROM workflows WHERE id = $1", static n => n == 1, cancellationToken, Text(workflowId));

    /// <inheritdoc />
    protected override Task ImportCoreAsync(StoreSnapshot snapshot, ImportMode mode, CancellationToken cancellationToken) =>
        RunAsync(async (connection, token) =>
        {
            await using var transaction = await connection.BeginTransactionAsync(token);

            // Serialise imports into one schema, so that two importers cannot both find it empty.
            await using (var lockCommand = new NpgsqlCommand("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))", connection))
            {
                lockCommand.Parameters.Add(Text("ratchet-import:" + _options.Schema));
                await lockCommand.ExecuteNonQueryAsync(token);
            }

            await using (var any = new NpgsqlCommand(
                "SELECT EXISTS (SELECT 1 FROM workflows) OR EXISTS (SELECT 1 FROM kv) OR EXISTS (SELECT 1 FROM checkpoints)", connection))
            {
                if (await any.ExecuteScalarAsync(token) is true && mode != ImportMode.Merge)
                {
                    throw new StoreNotEmptyException(Description);
                }
            }

            await ImportRecordsAsync(connection, snapshot, token);
            await transaction.CommitAsync(token);
            return true;
        }, cancellationToken);

    /// <inheritdoc />
    /// <remarks>
    /// Writes the store's export (a repeatable-read snapshot of every table, see <see cref="ExportAsync"/>) as one
    /// JSON document, in the format <c>ratchet export</c> writes and <see cref="RatchetStoreBase.ImportAsync"/> reads
    /// back: restore a backup by importing it into an empty store. For whole-server backups use PostgreSQL's own tools
    /// (<c>pg_dump</c>, base backups).
    /// </remarks>
    protected override Task BackupCoreAsync(string destination, CancellationToken cancellationToken) =>
        WriteSnapshotBackupAsync(destination, cancellationToken);

    private static async Task ImportRecordsAsync(NpgsqlConnection connection, StoreSnapshot snapshot, CancellationToken token)
    {
        // In a merge, a workflow the target already has keeps all of its own records.
        static Dictionary<string, long> LastSequences(IEnumerable<(string Id, long Sequence)> records)
        {
            var last = new Dictionary<string, long>(StringComparer.Ordinal);
            foreach (var (id, sequence) in records)
            {
                last[id] = Math.Max(last.GetValueOrDefault(id), sequence);
            }

            return last;
        }

        var steps = LastSequences(snapshot.Steps.Select(s => (s.WorkflowId, s.Sequence)));
        var events = LastSequences(snapshot.Events.Select(e => (e.WorkflowId, e.Sequence)));
        var commands = LastSequences(snapshot.Commands.Select(c => (c.WorkflowId, c.Sequence)));
        var imported = new HashSet<string>(StringComparer.Ordinal);
        foreach (var chunk in snapshot.Workflows.Chunk(ImportBatchSize))
        {
            await using var batch = connection.CreateBatch();
            foreach (var workflow in chunk)
            {
                var insert = new NpgsqlBatchCommand(WorkflowInsert + " ON CONFLICT (id) DO NOTHING RETURNING id");
                AddInsert(insert.Parameters, workflow, workflow.Version, steps.GetValueOrDefault(workflow.Id), events.GetValueOrDefault(workflow.Id), commands.GetValueOrDefault(workflow.Id));
                batch.BatchCommands.Add(insert);
            }

            await using var reader = await batch.ExecuteReaderAsync(token);
            do
            {
                while (await reader.ReadAsync(token))
                {
                    imported.Add(reader.GetString(0));
                }
            }
            while (await reader.NextResultAsync(token));
        }

        await InsertAllAsync(connection, snapshot.Steps.Where(s => imported.Contains(s.WorkflowId)),
            $"INSERT INTO steps ({StepColumns}) VALUES ($1, $2, {StepValues})",
            static (p, s) => { p.Add(Text(s.WorkflowId)); p.Add(Bigint(s.Sequence)); AddStep(p, s); }, token);
        await InsertAllAsync(connection, snapshot.Events.Where(e => imported.Contains(e.WorkflowId)),
            $"INSERT INTO events ({EventColumns}) VALUES ($1, $2, {EventValues})",
            static (p, e) => { p.Add(Text(e.WorkflowId)); p.Add(Bigint(e.Sequence)); AddEvent(p, e); }, token);
        await InsertAllAsync(connection, snapshot.Commands.Where(c => imported.Contains(c.WorkflowId)),
            $"INSERT INTO commands ({CommandColumns}) VALUES ($1, $2, {CommandValues})",
            static (p, c) => { p.Add(Text(c.WorkflowId)); p.Add(Bigint(c.Sequence)); AddCommand(p, c); }, token);
        await InsertAllAsync(connection, snapshot.Signals.Where(g => imported.Contains(g.WorkflowId)),
            $"INSERT INTO signals ({SignalColumns}) VALUES ($1, $2, $3, $4, $5)",
            static (p, g) => { p.Add(Text(g.WorkflowId)); p.Add(Bigint(g.Sequence)); AddSignal(p, g); }, token);
        await InsertAllAsync(connection, snapshot.Workspaces.Where(w => imported.Contains(w.WorkflowId)),
            $"INSERT INTO workspaces ({WorkspaceColumns}) VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING",
            AddWorkspace, token);
        await InsertAllAsync(connection, snapshot.Values,
            "INSERT INTO kv (namespace, key, value, version, updated_at) VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING",
            static (p, v) =>
            {
                p.Add(Text(v.Namespace));
                p.Add(Text(v.Key));
                p.Add(Text(v.Value.GetRawText()));
                p.Add(Bigint(v.Version));
                p.Add(Time(v.UpdatedAt));
            }, token);
        await InsertAllAsync(connection, snapshot.Checkpoints,
            "INSERT INTO checkpoints (namespace, name, created_at, entry_count, entries) VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING",
            static (p, c) =>
            {
                p.Add(Text(c.Namespace));
                p.Add(Text(c.Name));
                p.Add(Time(c.CreatedAt));
                p.Add(Integer(c.Entries.Count));
                p.Add(Text(RatchetJson.MapToText(c.Entries)));
            }, token);
    }

    private static async Task InsertAllAsync<T>(NpgsqlConnection connection, IEnumerable<T> records, string sql, Action<NpgsqlParameterCollection, T> bind, CancellationToken token)
    {
        foreach (var chunk in records.Chunk(ImportBatchSize))
        {
            await using var batch = connection.CreateBatch();
            foreach (var record in chunk)
            {
                var command = new NpgsqlBatchCommand(sql);
                bind(command.Parameters, record);
                batch.BatchCommands.Add(command);
            }

            await batch.ExecuteNonQueryAsync(token);
        }
    }

    private Task<T> ExecuteAsync<T>(string sql, Func<int, T> result, CancellationToken cancellationToken, params NpgsqlParameter[] parameters) =>
        RunAsync(async (connection, token) =>
        {
            await using var command = new NpgsqlCommand(sql, connection);
            command.Parameters.AddRange(parameters);
            return result(await command.ExecuteNonQueryAsync(token));
        }, cancellationToken);
}
