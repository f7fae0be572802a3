using System.Collections.Frozen;
using System.Text.Json;
using Ratchet.Serialization;

namespace Ratchet.Storage;

/// <summary>The columns of the current row of a SQL store, whichever driver reads it.</summary>
internal interface IStoreRow
{
    bool IsNull(int ordinal);

    string GetString(int ordinal);

    /// <summary>An integer column of any width.</summary>
    long GetInt64(int ordinal);
}

/// <summary>
/// What the SQL stores (SQLite and PostgreSQL) share about rows: the names stored for enums, the workflow columns in
/// the order the readers expect, and the readers of every record from a row in that order. The stored names are the
/// enums' member names and must never change: existing databases hold them.
/// </summary>
internal static class StoreRows
{
    public const string WorkflowColumns =
        "id, type, definition_version, status, wait_reason, wait_detail, current_node, input, artifacts, metadata, parent_id, attempt, " +
        "due_at, lease_owner, lease_expires_at, version, error, trace_parent, created_at, updated_at, completed_at, archived_at, " +
        "queue, queue_partition, queue_priority";

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

    public static string Name(WorkflowStatus status) => StatusNames[(int)status];

    public static string Name(WaitReason reason) => WaitReasonNames[(int)reason];

    public static string Name(StepOutcome outcome) => OutcomeNames[(int)outcome];

    public static string Name(WorkspaceStatus status) => WorkspaceStatusNames[(int)status];

    /// <summary>Columns: <see cref="WorkflowColumns"/>.</summary>
    public static WorkflowRecord ReadWorkflow<TRow>(TRow r) where TRow : IStoreRow => new()
    {
        Id = r.GetString(0),
        Type = r.GetString(1),
        DefinitionVersion = r.GetString(2),
        Status = Statuses[r.GetString(3)],
        WaitReason = WaitReasons[r.GetString(4)],
        WaitDetail = Text(r, 5),
        CurrentNode = Text(r, 6),
        Input = Json(r, 7),
        Artifacts = RatchetJson.ParseMap(r.GetString(8)),
        Metadata = Json(r, 9),
        ParentId = Text(r, 10),
        Attempt = (int)r.GetInt64(11),
        DueAt = Time(r, 12),
        LeaseOwner = Text(r, 13),
        LeaseExpiresAt = Time(r, 14),
        Version = r.GetInt64(15),
        Error = RatchetJson.ParseError(Text(r, 16)),
        TraceParent = Text(r, 17),
        CreatedAt = StoreTime.FromMicroseconds(r.GetInt64(18)),
        UpdatedAt = StoreTime.FromMicroseconds(r.GetInt64(19)),
        CompletedAt = Time(r, 20),
        ArchivedAt = Time(r, 21),
        Queue = Text(r, 22),
        QueuePartition = Text(r, 23),
        QueuePriority = (int)r.GetInt64(24),
    };

    /// <summary>Columns: workflow id, seq, node, attempt, outcome, output, error, started_at, finished_at.</summary>
    public static StepRecord ReadStep<TRow>(TRow r) where TRow : IStoreRow => new()
    {
        WorkflowId = r.GetString(0),
        Sequence = r.GetInt64(1),
        Node = r.GetString(2),
        Attempt = (int)r.GetInt64(3),
        Outcome = Outcomes[r.GetString(4)],
        Output = Json(r, 5),
        Error = RatchetJson.ParseError(Text(r, 6)),
        StartedAt = StoreTime.FromMicroseconds(r.GetInt64(7)),
        FinishedAt = StoreTime.FromMicroseconds(r.GetInt64(8)),
    };

    /// <summary>Columns: workflow id, seq, type, node, attempt, payload, at.</summary>
    public static AuditEvent ReadEvent<TRow>(TRow r) where TRow : IStoreRow => new()
    {
        WorkflowId = r.GetString(0),
        Sequence = r.GetInt64(1),
        Type = r.GetString(2),
        Node = Text(r, 3),
        Attempt = r.IsNull(4) ? null : (int)r.GetInt64(4),
        Payload = Json(r, 5),
        At = StoreTime.FromMicroseconds(r.GetInt64(6)),
    };

    /// <summary>
    /// Columns: workflow id, seq, node, attempt, command_line, working_directory, exit_code, duration_us, stdout_tail,
    /// stderr_tail, started_at.
    /// </summary>
    public static CommandExecution ReadCommand<TRow>(TRow r) where TRow : IStoreRow => new()
    {
        WorkflowId = r.GetString(0),
        Sequence = r.GetInt64(1),
        Node = r.GetString(2),
        Attempt = (int)r.GetInt64(3),
        CommandLine = r.GetString(4),
        WorkingDirectory = r.GetString(5),
        ExitCode = r.IsNull(6) ? null : (int)r.GetInt64(6),
        Duration = TimeSpan.FromTicks(r.GetInt64(7) * TimeSpan.TicksPerMicrosecond),
        StdoutTail = r.GetString(8),
        StderrTail = r.GetString(9),
        StartedAt = StoreTime.FromMicroseconds(r.GetInt64(10)),
    };

    /// <summary>Columns: workflow id, seq, name, payload, sent_at.</summary>
    public static SignalRecord ReadSignal<TRow>(TRow r) where TRow : IStoreRow => new()
    {
        WorkflowId = r.GetString(0),
        Sequence = r.GetInt64(1),
        Name = r.GetString(2),
        Payload = Json(r, 3),
        SentAt = StoreTime.FromMicroseconds(r.GetInt64(4)),
    };

    /// <summary>Columns: <see cref="WorkspaceColumns"/>.</summary>
    public static WorkspaceRecord ReadWorkspace<TRow>(TRow r) where TRow : IStoreRow => new()
    {
        WorkflowId = r.GetString(0),
        Path = r.GetString(1),
        Status = WorkspaceStatuses[r.GetString(2)],
        CreatedAt = StoreTime.FromMicroseconds(r.GetInt64(3)),
        HeartbeatAt = StoreTime.FromMicroseconds(r.GetInt64(4)),
    };

    /// <summary>Columns: <see cref="ValueColumns"/>.</summary>
    public static KeyValueEntry ReadValue<TRow>(TRow r) where TRow : IStoreRow => new()
    {
        Namespace = r.GetString(0),
        Key = r.GetString(1),
        Value = RatchetJson.ParseDocument(r.GetString(2)),
        Version = r.GetInt64(3),
        UpdatedAt = StoreTime.FromMicroseconds(r.GetInt64(4)),
    };

    /// <summary>Columns: namespace, name, created_at, entries.</summary>
    public static CheckpointRecord ReadCheckpoint<TRow>(TRow r) where TRow : IStoreRow => new()
    {
        Namespace = r.GetString(0),
        Name = r.GetString(1),
        CreatedAt = StoreTime.FromMicroseconds(r.GetInt64(2)),
        Entries = RatchetJson.ParseMap(r.GetString(3)),
    };

    /// <summary>Columns: namespace, name, created_at, entry_count.</summary>
    public static CheckpointInfo ReadCheckpointInfo<TRow>(TRow r) where TRow : IStoreRow => new()
    {
        Namespace = r.GetString(0),
        Name = r.GetString(1),
        CreatedAt = StoreTime.FromMicroseconds(r.GetInt64(2)),
        EntryCount = (int)r.GetInt64(3),
    };

    private static string? Text<TRow>(TRow r, int ordinal) where TRow : IStoreRow => r.IsNull(ordinal) ? null : r.GetString(ordinal);

    private static JsonElement? Json<TRow>(TRow r, int ordinal) where TRow : IStoreRow =>
        r.IsNull(ordinal) ? null : RatchetJson.ParseDocument(r.GetString(ordinal));

    private static DateTimeOffset? Time<TRow>(TRow r, int ordinal) where TRow : IStoreRow =>
        r.IsNull(ordinal) ? null : StoreTime.FromMicroseconds(r.GetInt64(ordinal));

    private static FrozenDictionary<string, T> Index<T>() where T : struct, Enum =>
        Enum.GetValues<T>().ToFrozenDictionary(v => v.ToString(), StringComparer.Ordinal);
}
