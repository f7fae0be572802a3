using Microsoft.Extensions.Logging;

namespace Ratchet.Postgres;

/// <summary>The PostgreSQL store's log messages. Event ids 2100–2199.</summary>
internal static partial class Log
{
    [LoggerMessage(EventId = 2100, Level = LogLevel.Information, Message = "Opened PostgreSQL store {Store} (schema {Version})")]
    public static partial void Opened(ILogger logger, string store, int version);

    [LoggerMessage(EventId = 2101, Level = LogLevel.Information, Message = "Applied migration {Version} to PostgreSQL store {Store}")]
    public static partial void MigrationApplied(ILogger logger, int version, string store);

    [LoggerMessage(EventId = 2102, Level = LogLevel.Warning, Message = "The LISTEN connection of PostgreSQL store {Store} failed; reconnecting in {Delay}")]
    public static partial void ListenerFailed(ILogger logger, string store, TimeSpan delay, Exception exception);

    [LoggerMessage(EventId = 2103, Level = LogLevel.Information, Message = "Listening for work on PostgreSQL store {Store}")]
    public static partial void Listening(ILogger logger, string store);

    [LoggerMessage(EventId = 2104, Level = LogLevel.Warning, Message = "A work notification could not be sent on PostgreSQL store {Store}; other workers will notice at their next poll")]
    public static partial void NotifyFailed(ILogger logger, string store, Exception exception);

    [LoggerMessage(EventId = 2105, Level = LogLevel.Error, Message = "A work subscriber of PostgreSQL store {Store} threw")]
    public static partial void SubscriberFailed(ILogger logger, string store, Exception exception);

    [LoggerMessage(EventId = 2106, Level = LogLevel.Debug, Message = "Retrying an operation on PostgreSQL store {Store} after {SqlState} (attempt {Attempt})")]
    public static partial void Retrying(ILogger logger, string store, string sqlState, int attempt);
}
