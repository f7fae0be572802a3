namespace Ratchet.Conformance;

/// <summary>
/// A clock that only moves when a test moves it, so that leases, due times and time stamps are exact.
/// Thread-safe. Only the wall clock is manual: timers and timestamps are the system's, so a store's internal
/// delays (busy retries, group-commit windows) still elapse in real time and never hang a test.
/// </summary>
public sealed class ManualTimeProvider : TimeProvider
{
    /// <summary>The default start: a whole second (2026-01-01T00:00:00Z), so that time stamps read easily.</summary>
    public static readonly DateTimeOffset DefaultStart = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);

    private readonly Lock _lock = new();
    private DateTimeOffset _utcNow;

    /// <summary>Creates a clock at <see cref="DefaultStart"/>.</summary>
    public ManualTimeProvider()
        : this(DefaultStart)
    {
    }

    /// <summary>Creates a clock at <paramref name="start"/> (converted to UTC).</summary>
    public ManualTimeProvider(DateTimeOffset start)
    {
        _utcNow = start.ToUniversalTime();
    }

    /// <inheritdoc />
    public override TimeZoneInfo LocalTimeZone => TimeZoneInfo.Utc;

    /// <inheritdoc />
    public override DateTimeOffset GetUtcNow()
    {
        lock (_lock)
        {
            return _utcNow;
        }
    }

    /// <summary>Sets the current time (converted to UTC). Going backwards is allowed, to test clock skew.</summary>
    public void SetUtcNow(DateTimeOffset value)
    {
        lock (_lock)
        {
            _utcNow = value.ToUniversalTime();
        }
    }

    /// <summary>Moves the clock forward by <paramref name="delta"/> and returns the new time.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="delta"/> is negative: use <see cref="SetUtcNow"/>.</exception>
    public DateTimeOffset Advance(TimeSpan delta)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(delta, TimeSpan.Zero);
        lock (_lock)
        {
            _utcNow += delta;
            return _utcNow;
        }
    }

    /// <inheritdoc />
    public override string ToString() => $"ManualTimeProvider({GetUtcNow():O})";
}
