using Microsoft.Extensions.Logging;

namespace Ratchet.Sqlite;

/// <summary>The SQLite store's log messages. Event ids 2000–2099.</summary>
internal static partial class Log
{
    [LoggerMessage(EventId = 2000, Level = LogLevel.Information, Message = "Opened SQLite store {Path} (schema {Version}, synchronous={Synchronous})")]
    public static partial void Opened(ILogger logger, string path, int version, SqliteSynchronous synchronous);

    [LoggerMessage(EventId = 2001, Level = LogLevel.Information, Message = "Applied migration {Version} to SQLite store {Path}")]
    public static partial void MigrationApplied(ILogger logger, int version, string path);

    [LoggerMessage(EventId = 2002, Level = LogLevel.Trace, Message = "Committed a batch of {Count} write operations")]
    public static partial void BatchCommitted(ILogger logger, int count);

    [LoggerMessage(EventId = 2003, Level = LogLevel.Error, Message = "A batch of {Count} write operations failed on SQLite store {Path}")]
    public static partial void BatchFailed(ILogger logger, int count, string path, Exception exception);
}
