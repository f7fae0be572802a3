using Microsoft.Extensions.Logging;

namespace Ratchet.Files;

/// <summary>The file store's log messages. Event ids 2200–2299.</summary>
internal static partial class Log
{
    [LoggerMessage(EventId = 2200, Level = LogLevel.Information, Message = "Opened file store {Root} (format {Version})")]
    public static partial void Opened(ILogger logger, string root, int version);

    [LoggerMessage(EventId = 2201, Level = LogLevel.Warning, Message = "Re-applied an interrupted commit of {Count} file operations found in {Intent}")]
    public static partial void IntentReplayed(ILogger logger, int count, string intent);

    // 2202 was "restored a last good copy": retired with that behaviour, since a .bak is older than what was committed.
    [LoggerMessage(EventId = 2203, Level = LogLevel.Warning, Message = "Left the damaged file {File} out of {Operation}; the other records are served, a direct read of this one is refused")]
    public static partial void DamagedFileSkipped(ILogger logger, string file, string operation, Exception exception);
}
