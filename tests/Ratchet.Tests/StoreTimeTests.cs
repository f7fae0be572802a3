using Microsoft.Extensions.Time.Testing;

namespace Ratchet.Tests;

public sealed class StoreTimeTests
{
    [Fact]
    public void ToMicroseconds_UnixEpoch_IsZero()
    {
        Assert.Equal(0, StoreTime.ToMicroseconds(DateTimeOffset.UnixEpoch));
    }

    [Fact]
    public void ToMicroseconds_KnownInstant_IsMicrosecondsSinceEpoch()
    {
        var time = new DateTimeOffset(2024, 1, 1, 0, 0, 0, TimeSpan.Zero).AddTicks(1_234_567);

        Assert.Equal(1_704_067_200_123_456, StoreTime.ToMicroseconds(time));
    }

    [Fact]
    public void ToMicroseconds_NonUtcOffset_CountsTheSameInstant()
    {
        var utc = new DateTimeOffset(2025, 6, 1, 10, 0, 0, TimeSpan.Zero);
        var local = utc.ToOffset(TimeSpan.FromHours(-7));

        Assert.Equal(StoreTime.ToMicroseconds(utc), StoreTime.ToMicroseconds(local));
    }

    [Fact]
    public void Truncate_SubMicrosecondTicks_DropsThemAndReturnsUtc()
    {
        var time = new DateTimeOffset(2025, 6, 1, 10, 0, 0, TimeSpan.FromHours(2)).AddTicks(123_456_789);

        var truncated = StoreTime.Truncate(time);

        Assert.Equal(TimeSpan.Zero, truncated.Offset);
        Assert.Equal(time.UtcDateTime.Ticks - 9, truncated.UtcTicks);
        Assert.Equal(0, truncated.UtcTicks % TimeSpan.TicksPerMicrosecond);
    }

    [Fact]
    public void Truncate_WholeMicrosecond_IsUnchanged()
    {
        var time = new DateTimeOffset(2025, 6, 1, 10, 0, 0, TimeSpan.Zero).AddMicroseconds(17);

        Assert.Equal(time, StoreTime.Truncate(time));
        Assert.Equal(time.UtcTicks, StoreTime.Truncate(time).UtcTicks);
    }

    [Fact]
    public void Truncate_AlreadyTruncated_IsIdempotent()
    {
        var time = new DateTimeOffset(2031, 2, 3, 4, 5, 6, TimeSpan.Zero).AddTicks(98_765);

        var once = StoreTime.Truncate(time);

        Assert.Equal(once, StoreTime.Truncate(once));
    }

    [Theory]
    [InlineData(0L)]
    [InlineData(1L)]
    [InlineData(-1L)]
    [InlineData(1_704_067_200_123_456L)]
    [InlineData(-86_400_000_000L)]
    [InlineData(253_402_300_799_999_999L)]
    [InlineData(-62_135_596_800_000_000L)]
    public void FromMicroseconds_RoundTrip_ReturnsTheSameCount(long microseconds)
    {
        var time = StoreTime.FromMicroseconds(microseconds);

        Assert.Equal(TimeSpan.Zero, time.Offset);
        Assert.Equal(microseconds, StoreTime.ToMicroseconds(time));
    }

    [Fact]
    public void FromMicroseconds_Extremes_AreMinAndMaxWholeMicroseconds()
    {
        Assert.Equal(DateTimeOffset.MinValue, StoreTime.FromMicroseconds(StoreTime.ToMicroseconds(DateTimeOffset.MinValue)));
        Assert.Equal(DateTimeOffset.MaxValue.UtcTicks - 9, StoreTime.FromMicroseconds(StoreTime.ToMicroseconds(DateTimeOffset.MaxValue)).UtcTicks);
    }

    [Fact]
    public void ToMicroseconds_PreEpochWholeMicrosecond_IsNegative()
    {
        var time = new DateTimeOffset(1969, 12, 31, 23, 59, 59, TimeSpan.Zero).AddMicroseconds(999_999);

        Assert.Equal(-1, StoreTime.ToMicroseconds(time));
        Assert.Equal(time, StoreTime.FromMicroseconds(-1));
    }

    [Fact]
    public void Truncate_PreEpochWithSubMicrosecondTicks_LandsOnAWholeMicrosecondWithinOneMicrosecond()
    {
        var time = new DateTimeOffset(1960, 5, 5, 5, 5, 5, TimeSpan.Zero).AddTicks(-3);

        var truncated = StoreTime.Truncate(time);

        Assert.Equal(0, truncated.UtcTicks % TimeSpan.TicksPerMicrosecond);
        Assert.InRange(Math.Abs(truncated.UtcTicks - time.UtcTicks), 0, TimeSpan.TicksPerMicrosecond - 1);
        Assert.Equal(truncated, StoreTime.Truncate(truncated));
    }

    [Fact]
    public void Truncate_Ordering_IsPreserved()
    {
        var earlier = new DateTimeOffset(2025, 1, 1, 0, 0, 0, TimeSpan.Zero).AddTicks(5);
        var later = earlier.AddTicks(20);

        Assert.True(StoreTime.Truncate(earlier) < StoreTime.Truncate(later));
    }

    [Fact]
    public void GetStoreNow_ClockWithTicks_ReturnsTruncatedUtcNow()
    {
        var now = new DateTimeOffset(2025, 6, 1, 10, 0, 0, TimeSpan.Zero).AddTicks(1_234_567);
        var clock = new FakeTimeProvider(now);

        Assert.Equal(now.AddTicks(-7), clock.GetStoreNow());
    }

    [Fact]
    public void GetStoreNow_NullClock_ThrowsArgumentNullException()
    {
        Assert.Throws<ArgumentNullException>(() => StoreTime.GetStoreNow(null!));
    }
}
