using Microsoft.Extensions.Time.Testing;

namespace Ratchet.Conformance;

/// <summary>
/// A <see cref="FakeTimeProvider"/> whose wall clock moves only when the test moves it, but whose timers and
/// timestamps are the system's: <c>Task.Delay(x, clock)</c> and <c>new CancellationTokenSource(x, clock)</c> elapse in
/// real time, and <see cref="TimeProvider.GetElapsedTime(long)"/> measures real time.
/// </summary>
/// <remarks>
/// Only for end-to-end runs that end on one of the engine's internal timers, chiefly
/// <c>WorkflowRunner.RunUntilIdleAsync</c>: it notices that the work is done at its next poll, a timer. On a plain
/// <see cref="FakeTimeProvider"/> that poll would wait for the test to advance the clock, and every advance would move
/// the times the test asserts (completion times, due times). Everywhere else, use a plain <see cref="FakeTimeProvider"/>
/// and advance it past the delay the test waits for.
/// </remarks>
public sealed class FakeTimeProviderWithSystemTimers : FakeTimeProvider
{
    /// <summary>Creates a clock at <paramref name="start"/>.</summary>
    public FakeTimeProviderWithSystemTimers(DateTimeOffset start)
        : base(start)
    {
    }

    /// <inheritdoc />
    public override long TimestampFrequency => System.TimestampFrequency;

    /// <inheritdoc />
    public override long GetTimestamp() => System.GetTimestamp();

    /// <inheritdoc />
    public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period) =>
        System.CreateTimer(callback, state, dueTime, period);
}
