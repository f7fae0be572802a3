using System.Data.Common;
using Npgsql;
using NpgsqlTypes;
using Ratchet.Serialization;

namespace Ratchet.Postgres;

/// <summary>
/// PostgreSQL's column lists and parameters of Ratchet's records. The records are read back by the core's shared row
/// readers (<see cref="StoreRows"/>) through <see cref="PostgresRow"/>, in the column order they expect.
/// </summary>
internal static class PostgresRows
{
    public const string StepColumns = "workflow_id, seq, node, attempt, outcome, output, error, started_at, finished_at";
    public const string EventColumns = "workflow_id, seq, type, node, attempt, payload, at";
    public const string CommandColumns =
        "workflow_id, seq, node, attempt, command_line, working_directory, exit_code, duration_us, stdout_tail, stderr_tail, started_at";

    /// <summary><see cref="WorkflowColumns"/> qualified with a table alias, for joins and RETURNING.</summary>
    public static string Qualified(string alias) =>
        string.Join(", ", WorkflowColumns.Split(", ").Select(c => $"{alias}.{c}"));

    // ---- parameters: positional, with explicit types so that nulls and re-used plans need no inference ----------

    public static NpgsqlParameter Text(string? value) =>
        new() { NpgsqlDbType = NpgsqlDbType.Text, Value = (object?)value ?? DBNull.Value };

    public static NpgsqlParameter Bigint(long value) => new NpgsqlParameter<long> { NpgsqlDbType = NpgsqlDbType.Bigint, TypedValue = value };

    public static NpgsqlParameter Bigint(long? value) =>
        new() { NpgsqlDbType = NpgsqlDbType.Bigint, Value = value is { } v ? v : DBNull.Value };

    public static NpgsqlParameter Integer(int? value) =>
        new() { NpgsqlDbType = NpgsqlDbType.Integer, Value = value is { } v ? v : DBNull.Value };

    public static NpgsqlParameter Time(DateTimeOffset time) => Bigint(StoreTime.ToMicroseconds(time));

    public static NpgsqlParameter Time(DateTimeOffset? time) => Bigint(time is { } t ? StoreTime.ToMicroseconds(t) : null);

    public static NpgsqlParameter TextArray(string[] values) =>
        new() { NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Text, Value = values };

    public static NpgsqlParameter TextArray(IEnumerable<string?> values) =>
        new() { NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Text, Value = values.ToArray() };

    public static NpgsqlParameter IntegerArray(IEnumerable<int?> values) =>
        new() { NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Integer, Value = values.ToArray() };

    public static NpgsqlParameter BigintArray(IEnumerable<long> values) =>
        new() { NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Bigint, Value = values.ToArray() };

    /// <summary>The 18 parameters of a workflow's mutable columns (everything but id, lease and version), in column order.</summary>
    public static void AddMutable(NpgsqlParameterCollection p, WorkflowRecord r)
    {
        p.Add(Text(r.Type));
        p.Add(Text(r.DefinitionVersion));
        p.Add(Text(Name(r.Status)));
        p.Add(Text(Name(r.WaitReason)));
        p.Add(Text(r.WaitDetail));
        p.Add(Text(r.CurrentNode));
        p.Add(Text(RatchetJson.ToText(r.Input)));
        p.Add(Text(RatchetJson.MapToText(r.Artifacts)));
        p.Add(Text(RatchetJson.ToText(r.Metadata)));
        p.Add(Text(r.ParentId));
        p.Add(Integer(r.Attempt));
        p.Add(Time(r.DueAt));
        p.Add(Text(RatchetJson.ErrorToText(r.Error)));
        p.Add(Text(r.TraceParent));
        p.Add(Time(r.CreatedAt));
        p.Add(Time(r.UpdatedAt));
        p.Add(Time(r.CompletedAt));
        p.Add(Time(r.ArchivedAt));
    }

    /// <summary>
    /// An insert of every column, counters included: $1 id, $2–$19 the mutable columns, $20 lease owner, $21 lease
    /// expiry, $22 version, $23–$25 the last step, event and command sequences, $26–$28 the queue, partition and priority.
    /// </summary>
    public const string WorkflowInsert =
        "INSERT INTO workflows (id, type, definition_version, status, wait_reason, wait_detail, current_node, input, artifacts, metadata, " +
        "parent_id, attempt, due_at, error, trace_parent, created_at, updated_at, completed_at, archived_at, lease_owner, lease_expires_at, " +
        "version, step_seq, event_seq, command_seq, queue, queue_partition, queue_priority) " +
        "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23, $24, $25, $26, $27, $28)";

    public static void AddInsert(NpgsqlParameterCollection p, WorkflowRecord r, long version, long steps, long events, long commands)
    {
        p.Add(Text(r.Id));
        AddMutable(p, r);
        p.Add(Text(r.LeaseOwner));
        p.Add(Time(r.LeaseExpiresAt));
        p.Add(Bigint(version));
        p.Add(Bigint(steps));
        p.Add(Bigint(events));
        p.Add(Bigint(commands));
        p.Add(Text(r.Queue));
        p.Add(Text(r.QueuePartition));
        p.Add(Integer(r.QueuePriority));
    }

    /// <summary>$1 workflow id, $2 sequence, then the step's columns.</summary>
    public const string StepValues = "$3, $4, $5, $6, $7, $8, $9";

    public static void AddStep(NpgsqlParameterCollection p, StepRecord s)
    {
        p.Add(Text(s.Node));
        p.Add(Integer(s.Attempt));
        p.Add(Text(Name(s.Outcome)));
        p.Add(Text(RatchetJson.ToText(s.Output)));
        p.Add(Text(RatchetJson.ErrorToText(s.Error)));
        p.Add(Time(s.StartedAt));
        p.Add(Time(s.FinishedAt));
    }

    public const string SignalColumns = "workflow_id, seq, name, payload, sent_at";

    /// <summary>After the workflow id and sequence: the signal's name, payload and time sent.</summary>
    public static void AddSignal(NpgsqlParameterCollection p, SignalRecord g)
    {
        p.Add(Text(g.Name));
        p.Add(Text(RatchetJson.ToText(g.Payload)));
        p.Add(Time(g.SentAt));
    }

    public const string EventValues = "$3, $4, $5, $6, $7";

    public static void AddEvent(NpgsqlParameterCollection p, AuditEvent e)
    {
        p.Add(Text(e.Type));
        p.Add(Text(e.Node));
        p.Add(Integer(e.Attempt));
        p.Add(Text(RatchetJson.ToText(e.Payload)));
        p.Add(Time(e.At));
    }

    public const string CommandValues = "$3, $4, $5, $6, $7, $8, $9, $10, $11";

    public static void AddCommand(NpgsqlParameterCollection p, CommandExecution c)
    {
        p.Add(Text(c.Node));
        p.Add(Integer(c.Attempt));
        p.Add(Text(c.CommandLine));
        p.Add(Text(c.WorkingDirectory));
        p.Add(Integer(c.ExitCode));
        p.Add(Bigint(c.Duration.Ticks / TimeSpan.TicksPerMicrosecond));
        p.Add(Text(c.StdoutTail));
        p.Add(Text(c.StderrTail));
        p.Add(Time(c.StartedAt));
    }

    public static void AddWorkspace(NpgsqlParameterCollection p, WorkspaceRecord w)
    {
        p.Add(Text(w.WorkflowId));
        p.Add(Text(w.Path));
        p.Add(Text(Name(w.Status)));
        p.Add(Time(w.CreatedAt));
        p.Add(Time(w.HeartbeatAt));
    }
}

/// <summary>An Npgsql reader's current row seen as an <see cref="IStoreRow"/>, for the shared row readers.</summary>
internal readonly struct PostgresRow(DbDataReader reader) : IStoreRow
{
    public bool IsNull(int ordinal) => reader.IsDBNull(ordinal);

    public string GetString(int ordinal) => reader.GetString(ordinal);

    /// <remarks>Npgsql widens integer and smallint columns to a long.</remarks>
    public long GetInt64(int ordinal) => reader.GetInt64(ordinal);

    public bool GetBoolean(int ordinal) => reader.GetBoolean(ordinal);
}
