namespace Ratchet;

/// <summary>A shell command a node ran, kept for the audit trail. Secrets are redacted before it is stored.</summary>
/// <remarks><see cref="Sequence"/> is assigned by the store when the record is committed (1, 2, 3… per workflow).</remarks>
public sealed record CommandExecution
{
    /// <summary>The workflow whose node ran the command.</summary>
    public required string WorkflowId { get; init; }

    /// <summary>The position among the workflow's commands, assigned by the store; ignored when appending.</summary>
    public long Sequence { get; init; }

    /// <summary>The node that ran the command.</summary>
    public required string Node { get; init; }

    /// <summary>The attempt of the node that ran it.</summary>
    public int Attempt { get; init; } = 1;

    /// <summary>The command line as run, secrets redacted.</summary>
    public required string CommandLine { get; init; }

    /// <summary>The directory it ran in.</summary>
    public string WorkingDirectory { get; init; } = "";

    /// <summary>The process exit code; null if it never exited (killed, timed out).</summary>
    public int? ExitCode { get; init; }

    /// <summary>How long it ran.</summary>
    public TimeSpan Duration { get; init; }

    /// <summary>The end of its standard output, size-capped.</summary>
    public string StdoutTail { get; init; } = "";

    /// <summary>The end of its standard error, size-capped.</summary>
    public string StderrTail { get; init; } = "";

    /// <summary>When it started.</summary>
    public DateTimeOffset StartedAt { get; init; }
}
