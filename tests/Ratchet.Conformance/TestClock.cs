namespace Ratchet.Conformance;

/// <summary>Where the tests' clocks (<see cref="Microsoft.Extensions.Time.Testing.FakeTimeProvider"/>) start.</summary>
public static class TestClock
{
    /// <summary>A whole second (2026-01-01T00:00:00Z), so that time stamps read easily; assertions count from it.</summary>
    public static readonly DateTimeOffset Start = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);
}
