using Microsoft.Extensions.Logging;
using Ratchet.Engine;

namespace Ratchet.Cli;

/// <summary>
/// The loggers every command hands the store, the engine and the observers: warnings and errors (with
/// <c>--verbose</c>, information too) as one line each on standard error, <c>ratchet: warning: MESSAGE</c>, so that
/// standard output stays the command's result (<c>--json</c> included) and the lines scroll above the live status.
/// </summary>
internal static class CliLogging
{
    /// <summary>The engine's "node failed" (event 1100): the progress line of that failure already says it.</summary>
    private const int NodeFailedEventId = 1100;

    /// <summary>The SQLite store's "batch failed" (event 2003): every write of the batch fails with it, and its caller says so.</summary>
    private const int SqliteBatchFailedEventId = 2003;

    public static ILoggerFactory Create(CliContext context)
    {
        var filter = new LoggerFilterOptions { MinLevel = context.Verbose ? LogLevel.Information : LogLevel.Warning };
#pragma warning disable CA2000 // The factory disposes the providers it is given.
        return new LoggerFactory([new Provider(context)], filter);
#pragma warning restore CA2000
    }

    /// <summary>One line: the level, the message, and the exception's message; with <c>--verbose</c> the whole exception below it.</summary>
    internal static string Format(LogLevel level, string message, Exception? exception)
    {
        var name = level switch
        {
            LogLevel.Critical or LogLevel.Error => "error",
            LogLevel.Warning => "warning",
            LogLevel.Information => "info",
            _ => "debug",
        };
        var line = $"ratchet: {name}: {RatchetCli.OneLine(message)}";
        return exception is null || message.Contains(exception.Message, StringComparison.Ordinal)
            ? line
            : $"{line}: {RatchetCli.OneLine(exception.Message)}";
    }

    private sealed class Provider(CliContext context) : ILoggerProvider
    {
        public ILogger CreateLogger(string categoryName) => new Logger(context, categoryName switch
        {
            _ when categoryName == typeof(WorkflowEngine).FullName => NodeFailedEventId,
            _ when categoryName.StartsWith("Ratchet.Sqlite", StringComparison.Ordinal) => SqliteBatchFailedEventId,
            _ => null,
        });

        public void Dispose()
        {
        }
    }

    /// <param name="context">Where to write.</param>
    /// <param name="repeatedEventId">An event of this category that another line already reports, shown only with --verbose.</param>
    private sealed class Logger(CliContext context, int? repeatedEventId) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        // The factory's filter already holds back what is below the level asked for.
        public bool IsEnabled(LogLevel logLevel) => logLevel != LogLevel.None;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            ArgumentNullException.ThrowIfNull(formatter);
            if (!IsEnabled(logLevel) || (eventId.Id == repeatedEventId && !context.Verbose))
            {
                return;
            }

            context.WriteErrorLine(Format(logLevel, formatter(state, exception), exception));
            if (context.Verbose && exception is not null)
            {
                context.WriteErrorLine(exception.ToString());
            }
        }
    }
}
