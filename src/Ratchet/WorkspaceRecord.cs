namespace Ratchet;

/// <summary>The state of a workflow's working directory.</summary>
public enum WorkspaceStatus
{
    /// <summary>In use by a running workflow.</summary>
    Active = 0,

    /// <summary>Its workflow completed.</summary>
    Completed = 1,

    /// <summary>Its workflow failed; kept for inspection until cleaned up.</summary>
    Failed = 2,

    /// <summary>Its owner stopped sending heartbeats (a "zombie"): to be cleaned up.</summary>
    Orphaned = 3,
}

/// <summary>A working directory bound to a workflow (one per workflow).</summary>
public sealed record WorkspaceRecord
{
    /// <summary>The workflow the workspace belongs to; also the workspace's key.</summary>
    public required string WorkflowId { get; init; }

    /// <summary>The directory's path.</summary>
    public required string Path { get; init; }

    /// <summary>The workspace's state.</summary>
    public WorkspaceStatus Status { get; init; }

    /// <summary>When it was created.</summary>
    public DateTimeOffset CreatedAt { get; init; }

    /// <summary>When its owner last said it was alive.</summary>
    public DateTimeOffset HeartbeatAt { get; init; }
}
