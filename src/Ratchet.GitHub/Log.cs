using Microsoft.Extensions.Logging;

namespace Ratchet.GitHub;

/// <summary>
/// Log messages of Ratchet.GitHub (event ids 3000–3099). Never the token: only paths and statuses. Trouble with GitHub
/// is logged at the level <see cref="GitHubTrouble.Level"/> gives: a warning the first time, information after it.
/// </summary>
internal static partial class Log
{
    [LoggerMessage(EventId = 3000, Level = LogLevel.Information, Message = "Created progress comment {CommentId} on {Target} for workflow {WorkflowId}")]
    public static partial void CommentCreated(ILogger logger, long commentId, GitHubTarget target, string workflowId);

    [LoggerMessage(EventId = 3001, Message = "GitHub answered {Method} {Path} with {Status}; attempt {Attempt} of {MaxAttempts}, next in {Delay}; progress comments lag until it answers")]
    public static partial void Retrying(ILogger logger, LogLevel level, string method, string path, int status, int attempt, int maxAttempts, TimeSpan delay);

    [LoggerMessage(EventId = 3002, Message = "GitHub could not be reached for {Method} {Path}; attempt {Attempt} of {MaxAttempts}, next in {Delay}; progress comments lag until it answers")]
    public static partial void Unreachable(ILogger logger, LogLevel level, string method, string path, int attempt, int maxAttempts, TimeSpan delay, Exception exception);

    [LoggerMessage(EventId = 3003, Message = "Gave up on {Method} {Path} after {Attempts} attempts (last status {Status}); the next change tries again")]
    public static partial void GaveUp(ILogger logger, LogLevel level, string method, string path, int attempts, int status);

    [LoggerMessage(EventId = 3004, Message = "GitHub refused {Method} {Path} with {Status}: {Reason}; dropped, the next change tries again")]
    public static partial void Refused(ILogger logger, LogLevel level, string method, string path, int status, string reason);

    [LoggerMessage(EventId = 3005, Message = "The progress comment {CommentId} of workflow {WorkflowId} is gone; creating a new one")]
    public static partial void CommentGone(ILogger logger, LogLevel level, long commentId, string workflowId);

    [LoggerMessage(EventId = 3006, Message = "Updating the GitHub progress of workflow {WorkflowId} failed; the next change tries again")]
    public static partial void UpdateFailed(ILogger logger, LogLevel level, string workflowId, Exception exception);

    [LoggerMessage(EventId = 3007, Message = "Stopped with GitHub progress of {Count} workflows unsent after the drain timeout")]
    public static partial void Undrained(ILogger logger, LogLevel level, int count);
}

/// <summary>
/// Whether trouble with GitHub was already reported since it last answered. A GitHub that is down fails every attempt
/// of every request; one warning says so, and the rest (information) would only repeat it.
/// </summary>
internal sealed class GitHubTrouble
{
    private int _reported;

    /// <summary>The level to log trouble at now: <see cref="LogLevel.Warning"/> the first time since GitHub last answered, else <see cref="LogLevel.Information"/>.</summary>
    public LogLevel Level() => Interlocked.Exchange(ref _reported, 1) == 0 ? LogLevel.Warning : LogLevel.Information;

    /// <summary>GitHub answered a request: the next trouble is news again.</summary>
    public void Cleared() => Volatile.Write(ref _reported, 0);
}
