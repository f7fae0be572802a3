namespace Ratchet.Storage;

/// <summary>Records cut to the time resolution every store keeps (see <see cref="StoreTime"/>), as stores write them.</summary>
internal static class StoreRecords
{
    public static WorkflowRecord Truncate(WorkflowRecord record) => record with
    {
        Artifacts = record.Artifacts ?? WorkflowRecord.NoArtifacts,
        DueAt = Truncate(record.DueAt),
        LeaseExpiresAt = Truncate(record.LeaseExpiresAt),
        CreatedAt = StoreTime.Truncate(record.CreatedAt),
        UpdatedAt = StoreTime.Truncate(record.UpdatedAt),
        CompletedAt = Truncate(record.CompletedAt),
        ArchivedAt = Truncate(record.ArchivedAt),
    };

    public static StepRecord Truncate(StepRecord step) => step with
    {
        StartedAt = StoreTime.Truncate(step.StartedAt),
        FinishedAt = StoreTime.Truncate(step.FinishedAt),
    };

    public static AuditEvent Truncate(AuditEvent auditEvent) => auditEvent with { At = StoreTime.Truncate(auditEvent.At) };

    public static CommandExecution Truncate(CommandExecution command) => command with
    {
        StartedAt = StoreTime.Truncate(command.StartedAt),
        Duration = TimeSpan.FromTicks(command.Duration.Ticks / TimeSpan.TicksPerMicrosecond * TimeSpan.TicksPerMicrosecond),
    };

    public static WorkspaceRecord Truncate(WorkspaceRecord workspace) => workspace with
    {
        CreatedAt = StoreTime.Truncate(workspace.CreatedAt),
        HeartbeatAt = StoreTime.Truncate(workspace.HeartbeatAt),
    };

    public static SignalRecord Truncate(SignalRecord signal) => signal with { SentAt = StoreTime.Truncate(signal.SentAt) };

    public static KeyValueEntry Truncate(KeyValueEntry entry) => entry with { UpdatedAt = StoreTime.Truncate(entry.UpdatedAt) };

    public static CheckpointRecord Truncate(CheckpointRecord checkpoint) => checkpoint with { CreatedAt = StoreTime.Truncate(checkpoint.CreatedAt) };

    private static DateTimeOffset? Truncate(DateTimeOffset? time) => time is { } t ? StoreTime.Truncate(t) : null;
}
