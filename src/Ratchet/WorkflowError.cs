namespace Ratchet;

/// <summary>What went wrong in a workflow or a step, kept as plain data so that every store can hold it.</summary>
/// <param name="Type">A short, stable classification, such as an exception's type name or <c>timeout</c>.</param>
/// <param name="Message">The human-readable message.</param>
public sealed record WorkflowError(string Type, string Message)
{
    /// <summary>The node that failed, when a node did; a failure path's nodes and retries use it.</summary>
    public string? Node { get; init; }

    /// <summary>Captures an exception's type name and message (never its stack trace, which is no user's data).</summary>
    public static WorkflowError FromException(Exception exception)
    {
        ArgumentNullException.ThrowIfNull(exception);
        return new WorkflowError(exception.GetType().Name, exception.Message);
    }
}
