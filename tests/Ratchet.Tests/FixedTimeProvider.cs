namespace Ratchet.Tests;

/// <summary>A clock that says what the test tells it to; the testing package for this is not on our package source.</summary>
internal sealed class FixedTimeProvider(DateTimeOffset now) : TimeProvider
{
    public DateTimeOffset Now { get; set; } = now;

    public override DateTimeOffset GetUtcNow() => Now;
}
