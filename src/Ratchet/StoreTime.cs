namespace Ratchet;

/// <summary>
/// The time resolution every store keeps: whole microseconds since the Unix epoch, UTC (PostgreSQL's resolution),
/// so that a record reads back equal whichever store holds it.
/// </summary>
internal static class StoreTime
{
    /// <summary>Microseconds since 1970-01-01T00:00:00Z.</summary>
    /// <remarks>Rounds down, also before 1970, so truncation never moves a time forward.</remarks>
    public static long ToMicroseconds(DateTimeOffset time) =>
        Math.DivRem(time.UtcTicks - DateTimeOffset.UnixEpoch.UtcTicks, TimeSpan.TicksPerMicrosecond) switch
        {
            (var quotient, < 0) => quotient - 1,
            (var quotient, _) => quotient,
        };

    /// <summary>The UTC time <paramref name="microseconds"/> after the Unix epoch.</summary>
    public static DateTimeOffset FromMicroseconds(long microseconds) =>
        new(DateTimeOffset.UnixEpoch.UtcTicks + (microseconds * TimeSpan.TicksPerMicrosecond), TimeSpan.Zero);

    /// <summary><paramref name="time"/> in UTC, cut to a whole microsecond.</summary>
    public static DateTimeOffset Truncate(DateTimeOffset time) => FromMicroseconds(ToMicroseconds(time));

    /// <summary>The provider's current time as a store keeps it.</summary>
    public static DateTimeOffset GetStoreNow(this TimeProvider clock)
    {
        ArgumentNullException.ThrowIfNull(clock);
        return Truncate(clock.GetUtcNow());
    }
}
