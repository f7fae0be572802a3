namespace Ratchet.Engine;

/// <summary>
/// How a failing node is tried again: up to <see cref="MaxAttempts"/> runs in all, waiting an exponentially growing,
/// jittered delay between them. The attempt number and the next due time are stored, so a restart in the middle of a
/// back-off neither resets nor skips it.
/// </summary>
public sealed record RetryPolicy
{
    /// <summary>No retries: one attempt.</summary>
    public static readonly RetryPolicy None = new() { MaxAttempts = 1 };

    /// <summary>The engine's default: 3 attempts, 1 s then 2 s, jittered by 20%.</summary>
    public static readonly RetryPolicy Default = new();

    /// <summary>Runs in all, the first included. At least 1.</summary>
    public int MaxAttempts { get; init; } = 3;

    /// <summary>The wait before the second attempt.</summary>
    public TimeSpan InitialDelay { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>Each wait is this many times the previous one.</summary>
    public double BackoffFactor { get; init; } = 2.0;

    /// <summary>The longest wait.</summary>
    public TimeSpan MaxDelay { get; init; } = TimeSpan.FromMinutes(5);

    /// <summary>A random share of each wait, 0 to 1, so that many failing workflows do not retry in lockstep.</summary>
    public double Jitter { get; init; } = 0.2;

    /// <summary>
    /// Which failures are worth retrying; null retries every exception. (Cancellation of the workflow or of the worker
    /// never reaches a policy; an <see cref="OperationCanceledException"/> a node throws on its own, such as an HTTP
    /// client's timeout, is a failure like any other.)
    /// </summary>
    public Func<Exception, bool>? ShouldRetry { get; init; }

    /// <summary>Retries only exceptions of these types (or types derived from them).</summary>
    public static RetryPolicy On(int maxAttempts, params Type[] exceptionTypes)
    {
        ArgumentNullException.ThrowIfNull(exceptionTypes);
        return new RetryPolicy
        {
            MaxAttempts = maxAttempts,
            ShouldRetry = ex => exceptionTypes.Any(t => t.IsInstanceOfType(ex)),
        };
    }

    /// <summary>Whether <paramref name="exception"/> after attempt <paramref name="attempt"/> should be retried.</summary>
    public bool CanRetry(Exception exception, int attempt) =>
        attempt < MaxAttempts && (ShouldRetry?.Invoke(exception) ?? true);

    /// <summary>The wait after the failed attempt number <paramref name="attempt"/> (1 for the first), jittered with <paramref name="random"/>.</summary>
    public TimeSpan DelayAfter(int attempt, Random random)
    {
        ArgumentNullException.ThrowIfNull(random);
        var exponential = InitialDelay.TotalMilliseconds * Math.Pow(BackoffFactor, Math.Max(0, attempt - 1));
        var capped = Math.Min(exponential, MaxDelay.TotalMilliseconds);
        var jitter = Jitter <= 0 ? 0 : ((random.NextDouble() * 2) - 1) * Jitter * capped;
        return TimeSpan.FromMilliseconds(Math.Clamp(capped + jitter, 0, MaxDelay.TotalMilliseconds));
    }

    /// <summary>Every problem with the policy, as sentences.</summary>
    public IEnumerable<string> Problems(string owner)
    {
        if (MaxAttempts < 1)
        {
            yield return $"{owner}: MaxAttempts is {MaxAttempts}; it must be at least 1.";
        }

        if (InitialDelay < TimeSpan.Zero || MaxDelay < TimeSpan.Zero)
        {
            yield return $"{owner}: retry delays cannot be negative.";
        }

        if (BackoffFactor < 1)
        {
            yield return $"{owner}: BackoffFactor is {BackoffFactor}; it must be at least 1.";
        }

        if (Jitter is < 0 or > 1)
        {
            yield return $"{owner}: Jitter is {Jitter}; it must be between 0 and 1.";
        }
    }
}
