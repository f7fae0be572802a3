using Microsoft.Extensions.Logging;

namespace Ratchet.Hosting;

/// <summary>The application layer's log messages (event ids 4000-4099).</summary>
internal static partial class Log
{
    [LoggerMessage(EventId = 4000, Level = LogLevel.Warning, Message = "a recorded workflow definition could not be loaded: {Problem}")]
    public static partial void RecordedDefinitionUnreadable(ILogger logger, string problem);
}
