using System.Collections.Frozen;
using System.Data.Common;
using System.Text.Json;
using Npgsql;
using NpgsqlTypes;
using Ratchet.Serialization;

namespace Ratchet.Postgres;

/// <summary>Column lists, parameters, and the mapping between rows and Ratchet's records.</summary>
internal static class PostgresRows
{
    public const string WorkflowColumns =
        "id, type, definition_version, status, wait_reason, wait_detail, current_node, input, artifacts, metadata, parent_id, attempt, " +
        "due_at, lease_owner, lease_expires_at, version, error, trace_parent, created_at, updated_at, completed_at, archived_at";

    public const string StepColumns = "workflow_id, seq, node, attempt, outcome, output, error, started_at, finished_at";
    public const string EventColumns = "workflow_id, seq, type, node, attempt, payload, at";
    public const string CommandColumns =
        "workflow_id, seq, node, attempt, command_line, working_directory, exit_code, duration_us, stdout_tail, stderr_tail, started_at";

    public const string WorkspaceColumns = "workflow_id, path, status, created_at, heartbeat_at";
    public const string ValueColumns = "namespace, key, value, version, updated_at";
    public const string TerminalStatuses = "('Completed', 'Failed', 'Cancelled')";

    private static readonly string[] StatusNames = Enum.GetNames<WorkflowStatus>();
    private static readonly string[] WaitReasonNames = Enum.GetNames<WaitReason>();
    private static readonly string[] OutcomeNames = Enum.GetNames<StepOutcome>();
    private static readonly string[] WorkspaceStatusNames = Enum.GetNames<WorkspaceStatus>();
    private static readonly FrozenDictionary<string, WorkflowStatus> Statuses = Index<WorkflowStatus>();
    private static readonly FrozenDictionary<string, WaitReason> WaitReasons = Index<WaitReason>();
    private static readonly FrozenDictionary<string, StepOutcome> Outcomes = Index<StepOutcome>();
    private static readonly FrozenDictionary<string, WorkspaceStatus> WorkspaceStatuses = Index<WorkspaceStatus>();

    /// <summary><see cref="WorkflowColumns"/> qualified with a table alias, for joins and RETURNING.</summary>
    public static string Qualified(string alias) =>
        string.Join(", ", WorkflowColumns.Split(", ").Select(c => $"{alias}.{c}"));

    public static string Name(WorkflowStatus status) => StatusNames[(int)status];

    public static string Name(WorkspaceStatus status) => WorkspaceStatusNames[(int)status];

    public static string Name(StepOutcome outcome) => OutcomeNames[(int)outcome];

    public static string Name(WaitReason reason) => WaitReasonNames[(int)reason];

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
    /// expiry, $22 version, $23–$25 the last step, event and command sequences.
    /// </summary>
    public const string WorkflowInsert =
        "INSERT INTO workflows (id, type, definition_version, status, wait_reason, wait_detail, current_node, input, artifacts, metadata, " +
        "parent_id, attempt, due_at, error, trace_parent, created_at, updated_at, completed_at, archived_at, lease_owner, lease_expires_at, " +
        "version, step_seq, event_seq, command_seq) " +
        "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23, $24, $25)";

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

    // ---- rows ----------------------------------------------------------------------------------------------------

    public static WorkflowRecord ReadWorkflow(DbDataReader r) => new()
    {
        Id = r.GetString(0),
        Type = r.GetString(1),
        DefinitionVersion = r.GetString(2),
        Status = Statuses[r.GetString(3)],
        WaitReason = WaitReasons[r.GetString(4)],
        WaitDetail = String(r, 5),
        CurrentNode = String(r, 6),
        Input = Json(r, 7),
        Artifacts = RatchetJson.ParseMap(r.GetString(8)),
        Metadata = Json(r, 9),
        ParentId = String(r, 10),
        Attempt = r.GetInt32(11),
        DueAt = TimeOrNull(r, 12),
        LeaseOwner = String(r, 13),
        LeaseExpiresAt = TimeOrNull(r, 14),
        Version = r.GetInt64(15),
        Error = RatchetJson.ParseError(String(r, 16)),
        TraceParent = String(r, 17),
        CreatedAt = StoreTime.FromMicroseconds(r.GetInt64(18)),
        UpdatedAt = StoreTime.FromMicroseconds(r.GetInt64(19)),
        CompletedAt = TimeOrNull(r, 20),
        ArchivedAt = TimeOrNull(r, 21),
    };

    public static StepRecord ReadStep(DbDataReader r) => new()
    {
        WorkflowId = r.GetString(0),
        Sequence = r.GetInt64(1),
        Node = r.GetString(2),
        Attempt = r.GetInt32(3),
        Outcome = Outcomes[r.GetString(4)],
        Output = Json(r, 5),
        Error = RatchetJson.ParseError(String(r, 6)),
        StartedAt = StoreTime.FromMicroseconds(r.GetInt64(7)),
        FinishedAt = StoreTime.FromMicroseconds(r.GetInt64(8)),
    };

    public static AuditEvent ReadEvent(DbDataReader r) => new()
    {
        WorkflowId = r.GetString(0),
        Sequence = r.GetInt64(1),
        Type = r.GetString(2),
        Node = String(r, 3),
        Attempt = r.IsDBNull(4) ? null : r.GetInt32(4),
        Payload = Json(r, 5),
        At = StoreTime.FromMicroseconds(r.GetInt64(6)),
    };

    public static CommandExecution ReadCommand(DbDataReader r) => new()
    {
        WorkflowId = r.GetString(0),
        Sequence = r.GetInt64(1),
        Node = r.GetString(2),
        Attempt = r.GetInt32(3),
        CommandLine = r.GetString(4),
        WorkingDirectory = r.GetString(5),
        ExitCode = r.IsDBNull(6) ? null : r.GetInt32(6),
        Duration = TimeSpan.FromTicks(r.GetInt64(7) * TimeSpan.TicksPerMicrosecond),
        StdoutTail = r.GetString(8),
        StderrTail = r.GetString(9),
        StartedAt = StoreTime.FromMicroseconds(r.GetInt64(10)),
    };

    public static WorkspaceRecord ReadWorkspace(DbDataReader r) => new()
    {
        WorkflowId = r.GetString(0),
        Path = r.GetString(1),
        Status = WorkspaceStatuses[r.GetString(2)],
        CreatedAt = StoreTime.FromMicroseconds(r.GetInt64(3)),
        HeartbeatAt = StoreTime.FromMicroseconds(r.GetInt64(4)),
    };

    public static CheckpointRecord ReadCheckpoint(DbDataReader r) => new()
    {
        Namespace = r.GetString(0),
        Name = r.GetString(1),
        CreatedAt = StoreTime.FromMicroseconds(r.GetInt64(2)),
        Entries = RatchetJson.ParseMap(r.GetString(3)),
    };

    public static KeyValueEntry ReadValue(DbDataReader r) => new()
    {
        Namespace = r.GetString(0),
        Key = r.GetString(1),
        Value = RatchetJson.ParseDocument(r.GetString(2)),
        Version = r.GetInt64(3),
        UpdatedAt = StoreTime.FromMicroseconds(r.GetInt64(4)),
    };

    private static string? String(DbDataReader r, int ordinal) => r.IsDBNull(ordinal) ? null : r.GetString(ordinal);

    private static JsonElement? Json(DbDataReader r, int ordinal) => r.IsDBNull(ordinal) ? null : RatchetJson.ParseDocument(r.GetString(ordinal));

    private static DateTimeOffset? TimeOrNull(DbDataReader r, int ordinal) =>
        r.IsDBNull(ordinal) ? null : StoreTime.FromMicroseconds(r.GetInt64(ordinal));

    private static FrozenDictionary<string, T> Index<T>() where T : struct, Enum =>
        Enum.GetValues<T>().ToFrozenDictionary(v => v.ToString(), StringComparer.Ordinal);
}
