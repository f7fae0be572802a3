using Microsoft.Extensions.Logging;

namespace Ratchet.Files;

/// <summary>The file store's log messages. Event ids 2200–2299.</summary>
internal static partial class Log
{
    [LoggerMessage(EventId = 2200, Level = LogLevel.Information, Message = "Opened file store {Root} (format {Version})")]
    public static partial void Opened(ILogger logger, string root, int version);

    [LoggerMessage(EventId = 2201, Level = LogLevel.Warning, Message = "Re-applied an interrupted commit of {Count} file operations found in {Intent}")]
    public static partial void IntentReplayed(ILogger logger, int count, string intent);

    [LoggerMessage(EventId = 2202, Level = LogLevel.Warning, Message = "The file {File} was unreadable; restored its last good copy {Backup}")]
    public static partial void FileRestored(ILogger logger, string file, string backup, Exception exception);
}
