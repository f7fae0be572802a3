using Ratchet.Engine;

namespace Ratchet.Templates;

/// <summary>
/// The retry policies the templates give their steps, by the kind of work a step does. Each step's default is in its
/// template's documentation; <see cref="WorkflowTemplateOptions.Retry"/> overrides them per step.
/// </summary>
public static class TemplateRetryPolicies
{
    /// <summary>
    /// One attempt. For reasoning steps (analysing, planning, locating code, generating a fix): a failure there is
    /// rarely a blip, and running a model again costs time and tokens; retry the workflow when the cause is fixed.
    /// </summary>
    public static RetryPolicy None { get; } = RetryPolicy.None;

    /// <summary>
    /// 5 attempts, 2 s doubling to at most 1 min, jittered by 20%. For steps that talk to a remote service (GitHub:
    /// creating a pull request, pushing, replying, fetching a comment), whose failures are mostly passing.
    /// </summary>
    public static RetryPolicy Network { get; } = Doubling(5, TimeSpan.FromSeconds(2), TimeSpan.FromMinutes(1));

    /// <summary>
    /// 2 attempts, 30 s apart (jittered by 20%). For long agent runs (implementing, fixing, writing), which can fail on a
    /// rate limit or a dropped session but are too expensive to repeat often.
    /// </summary>
    public static RetryPolicy Agent { get; } = Doubling(2, TimeSpan.FromSeconds(30), TimeSpan.FromMinutes(5));

    /// <summary>
    /// 2 attempts, 5 s apart (jittered by 20%). For local tooling (running the tests), where an exception means the
    /// tooling broke rather than the tests failed (failing tests are a result, not an exception).
    /// </summary>
    public static RetryPolicy Local { get; } = Doubling(2, TimeSpan.FromSeconds(5), TimeSpan.FromMinutes(1));

    /// <summary>
    /// Whether a step's exception is worth another attempt: every exception except cancellation and a
    /// <see cref="RatchetException"/> that says a retry cannot help (such as <see cref="StepFailedException"/>, a missing
    /// step implementation, or tests that still fail after the last allowed attempt).
    /// </summary>
    public static bool IsRetryable(Exception exception)
    {
        ArgumentNullException.ThrowIfNull(exception);
        return exception is not OperationCanceledException and not RatchetException { IsTransient: false };
    }

    private static RetryPolicy Doubling(int attempts, TimeSpan first, TimeSpan longest) => new()
    {
        MaxAttempts = attempts,
        InitialDelay = first,
        BackoffFactor = 2,
        MaxDelay = longest,
        Jitter = 0.2,
        ShouldRetry = IsRetryable,
    };
}
