using System.Globalization;
using System.Text;
using Microsoft.Data.Sqlite;
using Ratchet.Serialization;
using Ratchet.Storage;
using static Ratchet.Sqlite.SqliteRows;

namespace Ratchet.Sqlite;

public sealed partial class SqliteRatchetStore
{
    /// <inheritdoc />
    public Task<WorkflowRecord?> GetWorkflowAsync(string id, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(id);
        return ReadAsync(connection =>
        {
            using var command = Command(connection, $"SELECT {WorkflowColumns} FROM workflows WHERE id = $id;", ("$id", id));
            using var reader = command.ExecuteReader();
            return reader.Read() ? ReadWorkflow(new ReaderRow(reader)) : null;
        }, cancellationToken);
    }

    /// <inheritdoc />
    public Task<WorkflowPage> ListWorkflowsAsync(WorkflowQuery query, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(query);
        if (query.Limit is < 1 or > WorkflowQuery.MaxLimit)
        {
            throw new ArgumentOutOfRangeException(nameof(query), query.Limit, $"A page holds 1 to {WorkflowQuery.MaxLimit} workflows.");
        }

        var after = query.PageToken is null ? default((long, string)?) : ParsePageToken(query.PageToken);
        return ReadAsync(connection =>
        {
            using var command = connection.CreateCommand();
            var where = new List<string>();
            if (!query.IncludeArchived)
            {
                where.Add("archived_at IS NULL");
            }

            AddIn(command, where, "status", query.Statuses?.Select(Name).ToArray());
            AddIn(command, where, "type", query.Types?.ToArray());
            AddCondition(command, where, "parent_id = $parent", "$parent", query.ParentId);
            AddCondition(command, where, "created_at >= $created_from", "$created_from", Micros(query.CreatedFrom));
            AddCondition(command, where, "created_at < $created_to", "$created_to", Micros(query.CreatedTo));
            AddCondition(command, where, "updated_at >= $updated_from", "$updated_from", Micros(query.UpdatedFrom));
            AddCondition(command, where, "updated_at < $updated_to", "$updated_to", Micros(query.UpdatedTo));
            var descending = query.Order == ListOrder.NewestFirst;
            if (after is var (afterCreated, afterId))
            {
                var op = descending ? "<" : ">";
                where.Add($"(created_at {op} $after_created OR (created_at = $after_created AND id {op} $after_id))");
                command.Parameters.AddWithValue("$after_created", afterCreated);
                command.Parameters.AddWithValue("$after_id", afterId);
            }

            var direction = descending ? "DESC" : "ASC";
            command.CommandText = $"""
                SELECT {WorkflowColumns} FROM workflows
                {(where.Count > 0 ? "WHERE " + string.Join(" AND ", where) : "")}
                ORDER BY created_at {direction}, id {direction}
                LIMIT $limit;
                """;
            command.Parameters.AddWithValue("$limit", query.Limit + 1);
            var items = new List<WorkflowRecord>(Math.Min(query.Limit + 1, 1024));
            using (var reader = command.ExecuteReader())
            {
                while (reader.Read())
                {
                    items.Add(ReadWorkflow(new ReaderRow(reader)));
                }
            }

            string? next = null;
            if (items.Count > query.Limit)
            {
                items.RemoveAt(items.Count - 1);
                var last = items[^1];
                next = FormatPageToken(StoreTime.ToMicroseconds(last.CreatedAt), last.Id);
            }

            return new WorkflowPage(items, next);
        }, cancellationToken);
    }

    /// <inheritdoc />
    public Task<IReadOnlyList<WorkflowRecord>> GetDueWorkflowsAsync(DateTimeOffset asOf, int limit, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(limit);
        return ReadListAsync($"""
            SELECT {WorkflowColumns} FROM workflows INDEXED BY ix_workflows_due
            WHERE due_at IS NOT NULL AND archived_at IS NULL AND due_at <= $as_of AND status NOT IN {TerminalStatuses}
            ORDER BY due_at, id LIMIT $limit;
            """, ReadWorkflow<ReaderRow>, cancellationToken, ("$as_of", StoreTime.ToMicroseconds(asOf)), ("$limit", limit));
    }

    /// <inheritdoc />
    public Task<IReadOnlyList<StepRecord>> GetStepsAsync(string workflowId, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(workflowId);
        return ReadListAsync($"{StepSelect} WHERE w.id = $id ORDER BY s.seq;", ReadStep<ReaderRow>, cancellationToken, ("$id", workflowId));
    }

    /// <inheritdoc />
    public Task<IReadOnlyList<AuditEvent>> GetEventsAsync(string workflowId, long afterSequence = 0, int limit = int.MaxValue, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(workflowId);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(limit);
        return ReadListAsync($"{EventSelect} WHERE w.id = $id AND e.seq > $after ORDER BY e.seq LIMIT $limit;",
            ReadEvent, cancellationToken, ("$id", workflowId), ("$after", afterSequence), ("$limit", limit));
    }

    /// <inheritdoc />
    public Task<IReadOnlyList<CommandExecution>> GetCommandsAsync(string workflowId, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(workflowId);
        return ReadListAsync($"{CommandSelect} WHERE w.id = $id ORDER BY c.seq;", ReadCommand<ReaderRow>, cancellationToken, ("$id", workflowId));
    }

    /// <inheritdoc />
    public async Task<WorkspaceRecord?> GetWorkspaceAsync(string workflowId, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(workflowId);
        var found = await ReadListAsync($"SELECT {WorkspaceColumns} FROM workspaces WHERE workflow_id = $id;", ReadWorkspace<ReaderRow>, cancellationToken, ("$id", workflowId));
        return found.Count == 0 ? null : found[0];
    }

    /// <inheritdoc />
    public Task<IReadOnlyList<WorkspaceRecord>> ListWorkspacesAsync(WorkspaceStatus? status = null, CancellationToken cancellationToken = default) =>
        status is { } s
            ? ReadListAsync($"SELECT {WorkspaceColumns} FROM workspaces WHERE status = $status ORDER BY workflow_id;", ReadWorkspace<ReaderRow>, cancellationToken, ("$status", Name(s)))
            : ReadListAsync($"SELECT {WorkspaceColumns} FROM workspaces ORDER BY workflow_id;", ReadWorkspace<ReaderRow>, cancellationToken);

    /// <inheritdoc />
    public async Task<KeyValueEntry?> GetValueAsync(string @namespace, string key, CancellationToken cancellationToken = default)
    {
        KeyValueNames.Validate(@namespace, key);
        var found = await ReadListAsync($"SELECT {ValueColumns} FROM kv WHERE namespace = $ns AND key = $key;", ReadValue<ReaderRow>, cancellationToken, ("$ns", @namespace), ("$key", key));
        return found.Count == 0 ? null : found[0];
    }

    /// <inheritdoc />
    public Task<IReadOnlyList<KeyValueEntry>> ListValuesAsync(string @namespace, CancellationToken cancellationToken = default)
    {
        KeyValueNames.ValidateName(@namespace, "namespace", nameof(@namespace));

        // SQLite orders text by UTF-8 bytes; the contract's order is .NET's ordinal (UTF-16) order, which differs
        // beyond the Basic Multilingual Plane.
        return Ordered(ReadListAsync($"SELECT {ValueColumns} FROM kv WHERE namespace = $ns;", ReadValue<ReaderRow>, cancellationToken, ("$ns", @namespace)), v => v.Key);
    }

    /// <inheritdoc />
    public Task<IReadOnlyList<string>> ListNamespacesAsync(CancellationToken cancellationToken = default) =>
        Ordered(ReadListAsync("SELECT namespace FROM kv UNION SELECT namespace FROM checkpoints;", static r => r.GetString(0), cancellationToken), n => n);

    /// <inheritdoc />
    public Task<IReadOnlyList<CheckpointInfo>> ListCheckpointsAsync(string @namespace, CancellationToken cancellationToken = default)
    {
        KeyValueNames.ValidateName(@namespace, "namespace", nameof(@namespace));
        return ReadListAsync("SELECT namespace, name, created_at, entry_count FROM checkpoints WHERE namespace = $ns ORDER BY created_at, name;",
            r => new CheckpointInfo
            {
                Namespace = r.GetString(0),
                Name = r.GetString(1),
                CreatedAt = StoreTime.FromMicroseconds(r.GetInt64(2)),
                EntryCount = (int)r.GetInt64(3),
            },
            cancellationToken, ("$ns", @namespace));
    }

    /// <inheritdoc />
    public async Task<CheckpointRecord?> GetCheckpointAsync(string @namespace, string name, CancellationToken cancellationToken = default)
    {
        KeyValueNames.ValidateName(@namespace, "namespace", nameof(@namespace));
        KeyValueNames.ValidateName(name, "checkpoint name", nameof(name));
        var found = await ReadListAsync("SELECT namespace, name, created_at, entries FROM checkpoints WHERE namespace = $ns AND name = $name;",
            ReadCheckpoint<ReaderRow>, cancellationToken, ("$ns", @namespace), ("$name", name));
        return found.Count == 0 ? null : found[0];
    }

    /// <inheritdoc />
    public Task<StoreSnapshot> ExportAsync(CancellationToken cancellationToken = default) =>
        ReadAsync(connection =>
        {
            // One read transaction: every table is read at the same moment, while writers go on.
            using var transaction = connection.BeginTransaction(deferred: true);
            var snapshot = new StoreSnapshot
            {
                Workflows = All(connection, $"SELECT {WorkflowColumns} FROM workflows;", ReadWorkflow<ReaderRow>),
                Steps = All(connection, StepSelect + ";", ReadStep<ReaderRow>),
                Events = All(connection, EventSelect + ";", ReadEvent<ReaderRow>),
                Commands = All(connection, CommandSelect + ";", ReadCommand<ReaderRow>),
                Workspaces = All(connection, $"SELECT {WorkspaceColumns} FROM workspaces;", ReadWorkspace<ReaderRow>),
                Values = All(connection, $"SELECT {ValueColumns} FROM kv;", ReadValue<ReaderRow>),
                Checkpoints = All(connection, "SELECT namespace, name, created_at, entries FROM checkpoints;", ReadCheckpoint<ReaderRow>),
            };
            transaction.Commit();
            return snapshot.Canonicalize();
        }, cancellationToken);

    /// <summary>
    /// Runs a read on a pooled connection. SQLite reads are synchronous and short, so they run on the caller's thread
    /// rather than paying for a thread hop.
    /// </summary>
    private Task<T> ReadAsync<T>(Func<SqliteConnection, T> read, CancellationToken cancellationToken)
    {
        if (cancellationToken.IsCancellationRequested)
        {
            return Task.FromCanceled<T>(cancellationToken);
        }

        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) == 1, this);
        try
        {
            using var connection = new SqliteConnection(_readConnectionString);
            connection.Open();
            return Task.FromResult(read(connection));
        }
        catch (Exception ex)
        {
            return Task.FromException<T>(SqliteErrors.Translate(ex, _options.Path));
        }
    }

    private Task<IReadOnlyList<T>> ReadListAsync<T>(string sql, Func<ReaderRow, T> map, CancellationToken cancellationToken, params (string Name, object? Value)[] parameters) =>
        ReadAsync<IReadOnlyList<T>>(connection =>
        {
            using var command = Command(connection, sql, parameters);
            using var reader = command.ExecuteReader();
            var list = new List<T>();
            while (reader.Read())
            {
                list.Add(map(new ReaderRow(reader)));
            }

            return list;
        }, cancellationToken);

    private static async Task<IReadOnlyList<T>> Ordered<T>(Task<IReadOnlyList<T>> read, Func<T, string> key) =>
        (await read).OrderBy(key, StringComparer.Ordinal).ToArray();

    private static List<T> All<T>(SqliteConnection connection, string sql, Func<ReaderRow, T> map)
    {
        using var command = Command(connection, sql);
        using var reader = command.ExecuteReader();
        var list = new List<T>();
        while (reader.Read())
        {
            list.Add(map(new ReaderRow(reader)));
        }

        return list;
    }

    private static SqliteCommand Command(SqliteConnection connection, string sql, params (string Name, object? Value)[] parameters)
    {
        var command = connection.CreateCommand();
        command.CommandText = sql;
        foreach (var (name, value) in parameters)
        {
            command.Parameters.AddWithValue(name, value ?? DBNull.Value);
        }

        return command;
    }

    private static void AddIn(SqliteCommand command, List<string> where, string column, string[]? values)
    {
        if (values is not { Length: > 0 })
        {
            return;
        }

        var names = new string[values.Length];
        for (var i = 0; i < values.Length; i++)
        {
            names[i] = $"${column}_{i}";
            command.Parameters.AddWithValue(names[i], values[i]);
        }

        where.Add($"{column} IN ({string.Join(", ", names)})");
    }

    private static void AddCondition(SqliteCommand command, List<string> where, string condition, string parameter, object? value)
    {
        if (value is null)
        {
            return;
        }

        where.Add(condition);
        command.Parameters.AddWithValue(parameter, value);
    }

    private static string FormatPageToken(long createdMicros, string id) =>
        Convert.ToBase64String(Encoding.UTF8.GetBytes(string.Create(CultureInfo.InvariantCulture, $"{createdMicros}:{id}")));

    private static (long, string) ParsePageToken(string token)
    {
        try
        {
            var text = Encoding.UTF8.GetString(Convert.FromBase64String(token));
            var colon = text.IndexOf(':', StringComparison.Ordinal);
            if (colon > 0 && long.TryParse(text.AsSpan(0, colon), NumberStyles.Integer, CultureInfo.InvariantCulture, out var created))
            {
                return (created, text[(colon + 1)..]);
            }
        }
        catch (FormatException)
        {
            // Falls through to the refusal below.
        }

        throw new ArgumentException($"The page token '{token}' was not issued by this store; pass the NextPageToken of a previous page, or none.", nameof(token));
    }
}
