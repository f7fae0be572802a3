using System.Collections.Concurrent;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging;
using Ratchet.Sqlite;

namespace Ratchet.Engine.Tests;

/// <summary>A temporary directory for one test's database and files, deleted (with every connection pool) at the end.</summary>
internal sealed class Scratch : IDisposable
{
    public Scratch()
    {
        Path = Directory.CreateTempSubdirectory("ratchet-engine-test-").FullName;
    }

    public string Path { get; }

    /// <summary>The test's SQLite database.</summary>
    public string Database => File("ratchet.db");

    public string File(string name) => System.IO.Path.Combine(Path, name);

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        Directory.Delete(Path, recursive: true);
    }
}

/// <summary>Engines on a test's SQLite file.</summary>
internal static class TestEngines
{
    /// <summary>Short enough that an idle runner notices quickly, so <c>RunUntilIdleAsync</c> returns quickly.</summary>
    public static readonly TimeSpan FastPoll = TimeSpan.FromMilliseconds(50);

    /// <summary>
    /// A builder on <paramref name="path"/> with a fast poll. With a <paramref name="clock"/>, the engine and the store
    /// both run on it (the store is given it explicitly; see <c>BuilderTests</c> for the builder passing it on).
    /// </summary>
    public static RatchetBuilder Builder(string path, TimeProvider? clock = null)
    {
        var builder = new RatchetBuilder()
            .UseSqlite(path, o =>
            {
                if (clock is not null)
                {
                    o.TimeProvider = clock;
                }
            })
            .Configure(o => o.PollInterval = FastPoll);
        if (clock is not null)
        {
            builder.UseClock(clock);
        }

        return builder;
    }

    public static Task<WorkflowEngine> BuildAsync(string path, params WorkflowDefinition[] definitions) =>
        BuildAsync(path, clock: null, definitions);

    public static Task<WorkflowEngine> BuildAsync(string path, TimeProvider? clock, params WorkflowDefinition[] definitions)
    {
        var builder = Builder(path, clock);
        foreach (var definition in definitions)
        {
            builder.AddWorkflow(definition);
        }

        return builder.BuildAsync();
    }

    /// <summary>An engine with a started runner (disposed with the engine).</summary>
    public static async Task<WorkflowEngine> StartedAsync(RatchetBuilder builder)
    {
        var engine = await builder.BuildAsync();
        await engine.CreateRunner().StartAsync();
        return engine;
    }
}

/// <summary>Bounded waits: a test that would hang fails fast instead.</summary>
internal static class Within
{
    public static CancellationTokenSource Seconds(int seconds = 10) => new(TimeSpan.FromSeconds(seconds));
}

/// <summary>Small nodes.</summary>
internal static class Nodes
{
    public static Func<NodeContext, CancellationToken, Task<NodeResult>> Ok() => static (_, _) => Task.FromResult(NodeResult.Success());

    public static Func<NodeContext, CancellationToken, Task<NodeResult>> Ok<T>(T output) => (_, _) => Task.FromResult(NodeResult.Success(output));

    /// <summary>Throws <paramref name="exception"/> on attempts up to <paramref name="failingAttempts"/>, then succeeds with the attempt.</summary>
    public static Func<NodeContext, CancellationToken, Task<NodeResult>> FailFirst(int failingAttempts, Func<Exception>? exception = null) =>
        (context, _) => context.Attempt <= failingAttempts
            ? throw (exception?.Invoke() ?? new InvalidOperationException($"attempt {context.Attempt} fails"))
            : Task.FromResult(NodeResult.Success(new { attempt = context.Attempt }));

    /// <summary>A retry policy without jitter, so due times are exact.</summary>
    public static RetryPolicy Retry(int maxAttempts, TimeSpan initialDelay) =>
        new() { MaxAttempts = maxAttempts, InitialDelay = initialDelay, Jitter = 0 };
}

/// <summary>Records every event it hears, and lets a test wait for one.</summary>
internal sealed class RecordingObserver : IWorkflowObserver
{
    private readonly ConcurrentQueue<WorkflowEvent> _events = new();
    private readonly ConcurrentBag<(Func<WorkflowEvent, bool> Match, TaskCompletionSource<WorkflowEvent> Done)> _waiters = [];

    public IReadOnlyList<WorkflowEvent> Events => [.. _events];

    public IReadOnlyList<WorkflowEvent> For(string workflowId) => [.. _events.Where(e => e.WorkflowId == workflowId)];

    public Task<WorkflowEvent> WaitForAsync(Func<WorkflowEvent, bool> match, CancellationToken cancellationToken)
    {
        var done = new TaskCompletionSource<WorkflowEvent>(TaskCreationOptions.RunContinuationsAsynchronously);
        _waiters.Add((match, done));
        foreach (var seen in _events.Where(match))
        {
            done.TrySetResult(seen);
        }

        return done.Task.WaitAsync(cancellationToken);
    }

    public ValueTask OnEventAsync(WorkflowEvent workflowEvent, CancellationToken cancellationToken)
    {
        _events.Enqueue(workflowEvent);
        foreach (var (match, done) in _waiters)
        {
            if (match(workflowEvent))
            {
                done.TrySetResult(workflowEvent);
            }
        }

        return ValueTask.CompletedTask;
    }
}

/// <summary>A logger factory that keeps every entry, for the tests that assert on logging (the observer failure, the host's loggers reaching the store).</summary>
internal sealed class CapturingLoggerFactory : ILoggerFactory
{
    private readonly ConcurrentQueue<LogEntry> _entries = new();

    public IReadOnlyList<LogEntry> Entries => [.. _entries];

    public ILogger CreateLogger(string categoryName) => new CapturingLogger(categoryName, _entries);

    public void AddProvider(ILoggerProvider provider)
    {
    }

    public void Dispose()
    {
    }

    private sealed class CapturingLogger(string category, ConcurrentQueue<LogEntry> entries) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            entries.Enqueue(new LogEntry(category, logLevel, eventId, exception, formatter(state, exception)));
    }
}

internal sealed record LogEntry(string Category, LogLevel Level, EventId EventId, Exception? Exception, string Message);
