namespace Ratchet.Conformance;

/// <summary>
/// Decides what a missing test server means: outside CI a skip with the reason, in CI (<c>CI=true</c>) a failure,
/// so that a misconfigured pipeline can never pass by skipping.
/// </summary>
public static class TestEnvironment
{
    /// <summary>The variable holding the PostgreSQL connection string for tests (set by <c>test.sh</c>).</summary>
    public const string PostgresVariable = "RATCHET_TEST_POSTGRES";

    /// <summary>The variable holding the Redis connection string for tests (set by <c>test.sh</c>).</summary>
    public const string RedisVariable = "RATCHET_TEST_REDIS";

    /// <summary>Whether the tests run in CI: <c>CI</c> is <c>true</c> or <c>1</c>.</summary>
    public static bool IsCI =>
        Environment.GetEnvironmentVariable("CI") is { } value &&
        (value.Equals("true", StringComparison.OrdinalIgnoreCase) || value == "1");

    /// <summary>
    /// The value of <paramref name="variable"/>; when it is unset, throws <see cref="Unavailable"/>'s exception.
    /// </summary>
    /// <param name="variable">The environment variable, such as <see cref="PostgresVariable"/>.</param>
    /// <param name="backend">The backend's name for the message, such as <c>PostgreSQL</c>.</param>
    public static string RequireServer(string variable, string backend)
    {
        var value = Environment.GetEnvironmentVariable(variable);
        if (string.IsNullOrWhiteSpace(value))
        {
            throw Unavailable($"The {backend} conformance tests need a server: set {variable} to its connection string (./test.sh starts one and sets it).");
        }

        return value;
    }

    /// <summary>
    /// The exception a factory throws when it cannot provide a store: <see cref="StoreSkippedException"/> (the test is
    /// reported skipped with <paramref name="reason"/>) outside CI, <see cref="StoreRequiredException"/> (a failure) in CI.
    /// </summary>
    public static Exception Unavailable(string reason, Exception? innerException = null) =>
        IsCI
            ? new StoreRequiredException($"{reason} CI=true, so a missing store fails the test instead of skipping it.", innerException)
            : new StoreSkippedException(reason, innerException);
}

/// <summary>Thrown by a store factory outside CI when its store is unavailable; <c>[StoreFact]</c> reports the test as skipped.</summary>
public sealed class StoreSkippedException(string reason, Exception? innerException = null)
    : Exception(reason, innerException);

/// <summary>Thrown by a store factory in CI when its store is unavailable: the test fails.</summary>
public sealed class StoreRequiredException(string message, Exception? innerException = null)
    : Exception(message, innerException);
