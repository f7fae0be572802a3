using Microsoft.Data.Sqlite;
using Ratchet.Serialization;

namespace Ratchet.Sqlite;

/// <summary>The workflow columns an update may change (all but the id, the lease and the version), as bound values.</summary>
internal static class WorkflowRow
{
    public static readonly string[] MutableColumns =
    [
        "type", "definition_version", "status", "wait_reason", "wait_detail", "current_node", "input", "artifacts", "metadata", "parent_id",
        "attempt", "due_at", "error", "trace_parent", "created_at", "updated_at", "completed_at", "archived_at",
    ];

    public static readonly string[] Parameters = MutableColumns.Select(c => "$" + c).ToArray();

    public static readonly string MutableColumnList = string.Join(", ", MutableColumns);

    /// <summary>The values to store, in <see cref="MutableColumns"/> order: strings, longs or nulls.</summary>
    public static object?[] Values(WorkflowRecord r) =>
    [
        r.Type, r.DefinitionVersion, StoreRows.Name(r.Status), StoreRows.Name(r.WaitReason), r.WaitDetail, r.CurrentNode,
        RatchetJson.ToText(r.Input), RatchetJson.MapToText(r.Artifacts), RatchetJson.ToText(r.Metadata), r.ParentId,
        (long)r.Attempt, SqliteRows.Micros(r.DueAt), RatchetJson.ErrorToText(r.Error), r.TraceParent,
        StoreTime.ToMicroseconds(r.CreatedAt), StoreTime.ToMicroseconds(r.UpdatedAt), SqliteRows.Micros(r.CompletedAt),
        SqliteRows.Micros(r.ArchivedAt),
    ];

    public static bool SameValue(Statement row, int ordinal, object? value) => value switch
    {
        null => row.IsNull(ordinal),
        string text => !row.IsNull(ordinal) && string.Equals(row.GetString(ordinal), text, StringComparison.Ordinal),
        long number => !row.IsNull(ordinal) && row.GetInt64(ordinal) == number,
        _ => false,
    };

    public static string UpdateSql(ulong changed, LeaseAction lease)
    {
        var set = new List<string>();
        for (var i = 0; i < MutableColumns.Length; i++)
        {
            if ((changed & (1UL << i)) != 0)
            {
                set.Add($"{MutableColumns[i]} = {Parameters[i]}");
            }
        }

        set.Add("version = version + 1");
        if (lease == LeaseAction.Release)
        {
            set.Add("lease_owner = NULL");
            set.Add("lease_expires_at = NULL");
        }

        return $"UPDATE workflows SET {string.Join(", ", set)} WHERE id = $id;";
    }
}

/// <summary>
/// SQLite's statements and bindings of Ratchet's records. The records are read back by the core's shared row readers
/// (<see cref="StoreRows"/>), whose column order every select here keeps.
/// </summary>
internal static class SqliteRows
{
    public const string WorkflowValues =
        "$id, $type, $definition_version, $status, $wait_reason, $wait_detail, $current_node, $input, $artifacts, $metadata, $parent_id, $attempt, " +
        "$due_at, $lease_owner, $lease_expires_at, $version, $error, $trace_parent, $created_at, $updated_at, $completed_at, $archived_at, " +
        "$queue, $queue_partition, $queue_priority";

    // Journals are keyed by the workflow's internal key; reads join back to its id, which comes first in every row.
    public const string StepInsert =
        "INSERT INTO steps (workflow, seq, node, attempt, outcome, output, error, started_at, finished_at) " +
        "VALUES ($workflow, $seq, $node, $attempt, $outcome, $output, $error, $started_at, $finished_at);";

    public const string StepSelect =
        "SELECT w.id, s.seq, s.node, s.attempt, s.outcome, s.output, s.error, s.started_at, s.finished_at " +
        "FROM steps s JOIN workflows w ON w.pk = s.workflow";

    public const string EventInsert =
        "INSERT INTO events (workflow, seq, type, node, attempt, payload, at) VALUES ($workflow, $seq, $type, $node, $attempt, $payload, $at);";

    public const string EventSelect =
        "SELECT w.id, e.seq, e.type, e.node, e.attempt, e.payload, e.at FROM events e JOIN workflows w ON w.pk = e.workflow";

    public const string CommandInsert =
        "INSERT INTO commands (workflow, seq, node, attempt, command_line, working_directory, exit_code, duration_us, stdout_tail, stderr_tail, started_at) " +
        "VALUES ($workflow, $seq, $node, $attempt, $command_line, $working_directory, $exit_code, $duration_us, $stdout_tail, $stderr_tail, $started_at);";

    public const string CommandSelect =
        "SELECT w.id, c.seq, c.node, c.attempt, c.command_line, c.working_directory, c.exit_code, c.duration_us, c.stdout_tail, c.stderr_tail, c.started_at " +
        "FROM commands c JOIN workflows w ON w.pk = c.workflow";

    public const string SignalInsert =
        "INSERT INTO signals (workflow, seq, name, payload, sent_at) VALUES ($workflow, $seq, $name, $payload, $sent_at);";

    public const string SignalSelect =
        "SELECT w.id, g.seq, g.name, g.payload, g.sent_at FROM signals g JOIN workflows w ON w.pk = g.workflow";

    public static object? Micros(DateTimeOffset? time) => time is { } t ? StoreTime.ToMicroseconds(t) : null;

    /// <summary>Binds every workflow column except the lease and version, which callers choose.</summary>
    public static Statement BindWorkflow(this Statement statement, WorkflowRecord record) => statement
        .Bind("$id", record.Id)
        .Bind("$type", record.Type)
        .Bind("$definition_version", record.DefinitionVersion)
        .Bind("$status", StoreRows.Name(record.Status))
        .Bind("$wait_reason", StoreRows.Name(record.WaitReason))
        .Bind("$wait_detail", record.WaitDetail)
        .Bind("$current_node", record.CurrentNode)
        .Bind("$input", RatchetJson.ToText(record.Input))
        .Bind("$artifacts", RatchetJson.MapToText(record.Artifacts))
        .Bind("$metadata", RatchetJson.ToText(record.Metadata))
        .Bind("$parent_id", record.ParentId)
        .Bind("$attempt", record.Attempt)
        .Bind("$due_at", Micros(record.DueAt))
        .Bind("$error", RatchetJson.ErrorToText(record.Error))
        .Bind("$trace_parent", record.TraceParent)
        .Bind("$created_at", StoreTime.ToMicroseconds(record.CreatedAt))
        .Bind("$updated_at", StoreTime.ToMicroseconds(record.UpdatedAt))
        .Bind("$completed_at", Micros(record.CompletedAt))
        .Bind("$archived_at", Micros(record.ArchivedAt))
        .Bind("$queue", record.Queue)
        .Bind("$queue_partition", record.QueuePartition)
        .Bind("$queue_priority", record.QueuePriority);

    public static Statement BindStep(this Statement statement, long workflow, long seq, StepRecord step) => statement
        .Bind("$workflow", workflow)
        .Bind("$seq", seq)
        .Bind("$node", step.Node)
        .Bind("$attempt", step.Attempt)
        .Bind("$outcome", StoreRows.Name(step.Outcome))
        .Bind("$output", RatchetJson.ToText(step.Output))
        .Bind("$error", RatchetJson.ErrorToText(step.Error))
        .Bind("$started_at", StoreTime.ToMicroseconds(step.StartedAt))
        .Bind("$finished_at", StoreTime.ToMicroseconds(step.FinishedAt));

    public static Statement BindEvent(this Statement statement, long workflow, long seq, AuditEvent e) => statement
        .Bind("$workflow", workflow)
        .Bind("$seq", seq)
        .Bind("$type", e.Type)
        .Bind("$node", e.Node)
        .Bind("$attempt", e.Attempt)
        .Bind("$payload", RatchetJson.ToText(e.Payload))
        .Bind("$at", StoreTime.ToMicroseconds(e.At));

    public static Statement BindSignal(this Statement statement, long workflow, long seq, SignalRecord g) => statement
        .Bind("$workflow", workflow)
        .Bind("$seq", seq)
        .Bind("$name", g.Name)
        .Bind("$payload", RatchetJson.ToText(g.Payload))
        .Bind("$sent_at", StoreTime.ToMicroseconds(g.SentAt));

    public static Statement BindCommand(this Statement statement, long workflow, long seq, CommandExecution c) => statement
        .Bind("$workflow", workflow)
        .Bind("$seq", seq)
        .Bind("$node", c.Node)
        .Bind("$attempt", c.Attempt)
        .Bind("$command_line", c.CommandLine)
        .Bind("$working_directory", c.WorkingDirectory)
        .Bind("$exit_code", c.ExitCode)
        .Bind("$duration_us", c.Duration.Ticks / TimeSpan.TicksPerMicrosecond)
        .Bind("$stdout_tail", c.StdoutTail)
        .Bind("$stderr_tail", c.StderrTail)
        .Bind("$started_at", StoreTime.ToMicroseconds(c.StartedAt));

    public static Statement BindWorkspace(this Statement statement, WorkspaceRecord w) => statement
        .Bind("$workflow_id", w.WorkflowId)
        .Bind("$path", w.Path)
        .Bind("$status", StoreRows.Name(w.Status))
        .Bind("$created_at", StoreTime.ToMicroseconds(w.CreatedAt))
        .Bind("$heartbeat_at", StoreTime.ToMicroseconds(w.HeartbeatAt));
}
