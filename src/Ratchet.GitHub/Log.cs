using Microsoft.Extensions.Logging;

namespace Ratchet.GitHub;

/// <summary>Log messages of Ratchet.GitHub (event ids 3000–3099). Never the token: only paths and statuses.</summary>
internal static partial class Log
{
    [LoggerMessage(EventId = 3000, Level = LogLevel.Information, Message = "Created progress comment {CommentId} on {Target} for workflow {WorkflowId}")]
    public static partial void CommentCreated(ILogger logger, long commentId, GitHubTarget target, string workflowId);

    [LoggerMessage(EventId = 3001, Level = LogLevel.Warning, Message = "GitHub answered {Method} {Path} with {Status}; attempt {Attempt} of {MaxAttempts}, next in {Delay}")]
    public static partial void Retrying(ILogger logger, string method, string path, int status, int attempt, int maxAttempts, TimeSpan delay);

    [LoggerMessage(EventId = 3002, Level = LogLevel.Warning, Message = "GitHub could not be reached for {Method} {Path}; attempt {Attempt} of {MaxAttempts}, next in {Delay}")]
    public static partial void Unreachable(ILogger logger, string method, string path, int attempt, int maxAttempts, TimeSpan delay, Exception exception);

    [LoggerMessage(EventId = 3003, Level = LogLevel.Warning, Message = "Gave up on {Method} {Path} after {Attempts} attempts (last status {Status}); the next change tries again")]
    public static partial void GaveUp(ILogger logger, string method, string path, int attempts, int status);

    [LoggerMessage(EventId = 3004, Level = LogLevel.Warning, Message = "GitHub refused {Method} {Path} with {Status}: {Reason}; dropped")]
    public static partial void Refused(ILogger logger, string method, string path, int status, string reason);

    [LoggerMessage(EventId = 3005, Level = LogLevel.Warning, Message = "The progress comment {CommentId} of workflow {WorkflowId} is gone; creating a new one")]
    public static partial void CommentGone(ILogger logger, long commentId, string workflowId);

    [LoggerMessage(EventId = 3006, Level = LogLevel.Error, Message = "Updating the GitHub progress of workflow {WorkflowId} failed; the next change tries again")]
    public static partial void UpdateFailed(ILogger logger, string workflowId, Exception exception);

    [LoggerMessage(EventId = 3007, Level = LogLevel.Warning, Message = "Stopped with GitHub progress of {Count} workflows unsent after the drain timeout")]
    public static partial void Undrained(ILogger logger, int count);
}
