using Microsoft.Extensions.Logging;

namespace Ratchet.Redis;

/// <summary>The Redis store's log messages. Event ids 2300–2399.</summary>
internal static partial class Log
{
    [LoggerMessage(EventId = 2300, Level = LogLevel.Information, Message = "Opened Redis store {Store} (schema {Version})")]
    public static partial void Opened(ILogger logger, string store, int version);

    [LoggerMessage(EventId = 2301, Level = LogLevel.Warning, Message = "Redis store {Store}: {Warning}")]
    public static partial void PersistenceUnsafe(ILogger logger, string store, string warning);

    [LoggerMessage(EventId = 2302, Level = LogLevel.Warning, Message = "A work notification handler of Redis store {Store} failed")]
    public static partial void NotificationFailed(ILogger logger, string store, Exception exception);
}
