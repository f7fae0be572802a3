using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using Ratchet.Sqlite;

namespace Ratchet.Engine.Tests;

/// <summary>
/// Issue 12: <c>services.AddRatchet(...)</c> in a real generic host opens the store in the hosted service's start (no
/// sync-over-async), validates its options on start, hands the store the host's clock and loggers, lets the
/// application's own registrations win, and shares every <c>UseX</c>/<c>AddX</c> with the plain builder.
/// </summary>
public sealed class HostedEngineTests : IDisposable
{
    private static readonly DateTimeOffset FarFromNow = new(2030, 6, 1, 0, 0, 0, TimeSpan.Zero);

    private readonly Scratch _scratch = new();

    public void Dispose() => _scratch.Dispose();

    [Fact]
    public async Task UseSqlite_OnThePlainBuilderAndInAHost_BothOpenTheStoreAndTheHostRunsTheWorkflow()
    {
        var definition = new WorkflowBuilder("shared").Node("A", Nodes.Ok(new { done = true })).Build();
        using var timeout = Within.Seconds();
        string id;
        await using (var plain = await new RatchetBuilder().UseSqlite(_scratch.Database).AddWorkflow(definition).BuildAsync(timeout.Token))
        {
            id = (await plain.StartAsync("shared", cancellationToken: timeout.Token)).Id;
        }

        var builder = NewHost();
        builder.Services.AddRatchet(o => o.PollInterval = TestEngines.FastPoll).UseSqlite(_scratch.Database).AddWorkflow(definition);
        await using var host = await StartedAsync(builder, timeout.Token);

        var done = await host.Services.GetRequiredService<WorkflowEngine>().WaitForCompletionAsync(id, timeout.Token);

        Assert.Equal(WorkflowStatus.Completed, done.Status);
        Assert.True(done.Artifacts["A"].GetProperty("done").GetBoolean());
    }

    [Fact]
    public async Task AddRatchet_InvalidOptions_HostStartFailsListingEveryProblem()
    {
        var builder = NewHost();
        builder.Services.AddRatchet(o => o.MaxConcurrency = 0)
            .UseSqlite(_scratch.Database)
            .Configure(o => o.LeaseDuration = TimeSpan.Zero);
        using var timeout = Within.Seconds();
        await using var host = (IAsyncDisposable)builder.Build();

        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => ((IHost)host).StartAsync(timeout.Token));

        Assert.Contains("MaxConcurrency is 0", error.Message, StringComparison.Ordinal);
        Assert.Contains("LeaseDuration is 00:00:00", error.Message, StringComparison.Ordinal);
        Assert.False(File.Exists(_scratch.Database), "the store must not be opened when the options are refused");
    }

    [Fact]
    public async Task AddRatchet_WithoutAStore_HostStartSaysWhatIsMissing()
    {
        var builder = NewHost();
        builder.Services.AddRatchet();
        using var timeout = Within.Seconds();
        await using var host = (IAsyncDisposable)builder.Build();

        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => ((IHost)host).StartAsync(timeout.Token));

        Assert.Contains("UseSqlite", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AddRatchet_HostTimeProviderAndLoggerFactory_ReachTheStoreAndTheEngine()
    {
        var clock = new FakeTimeProvider(FarFromNow);
        var loggers = new CapturingLoggerFactory();
        var builder = NewHost();
        builder.Services.AddSingleton<TimeProvider>(clock);
        builder.Services.AddSingleton<ILoggerFactory>(loggers);
        builder.Services.AddRatchet(o => o.PollInterval = TestEngines.FastPoll)
            .UseSqlite(_scratch.Database)
            .AddWorkflow(new WorkflowBuilder("clocked").Node("A", Nodes.Ok()).Build());
        using var timeout = Within.Seconds();
        await using var host = await StartedAsync(builder, timeout.Token);
        var engine = host.Services.GetRequiredService<WorkflowEngine>();

        // The store writes checkpoint times with its own clock: the fake one, if the host's clock reached it.
        var checkpoint = await engine.Store.CreateCheckpointAsync("clock", "now", timeout.Token);
        var started = await engine.StartAsync("clocked", cancellationToken: timeout.Token);
        var done = await engine.WaitForCompletionAsync(started.Id, timeout.Token);

        Assert.Equal(FarFromNow, checkpoint.CreatedAt);
        Assert.Same(clock, engine.Clock);
        Assert.Equal(FarFromNow, done.CompletedAt);
        Assert.Contains(loggers.Entries, e => e.Category == typeof(SqliteRatchetStore).FullName && e.EventId.Id == 2000);
    }

    [Fact]
    public async Task AddRatchet_EngineResolvedBeforeTheHostStarted_SaysToStartTheHostFirst()
    {
        var builder = NewHost();
        builder.Services.AddRatchet(o => o.PollInterval = TestEngines.FastPoll).UseSqlite(_scratch.Database);
        using var timeout = Within.Seconds();
        await using var host = (IAsyncDisposable)builder.Build();
        var services = ((IHost)host).Services;

        var early = Assert.Throws<InvalidOperationException>(() => services.GetRequiredService<WorkflowEngine>());
        var provider = services.GetRequiredService<RatchetEngineProvider>();
        Assert.False(File.Exists(_scratch.Database), "nothing may open the store before the host starts");
        await ((IHost)host).StartAsync(timeout.Token);

        Assert.Contains("GetEngineAsync", early.Message, StringComparison.Ordinal);
        Assert.Same(await provider.GetEngineAsync(timeout.Token), services.GetRequiredService<WorkflowEngine>());
        await ((IHost)host).StopAsync(timeout.Token);
    }

    [Fact]
    public async Task AddRatchet_ApplicationRegistrations_WinOverRatchetDefaults()
    {
        var builder = NewHost();
        var clock = new FakeTimeProvider(FarFromNow);
        builder.Services.AddSingleton<TimeProvider>(clock);
        builder.Services.AddSingleton<IWorkflowIdGenerator>(new CountingIds("app-"));
        var ratchet = builder.Services.AddRatchet(o => o.PollInterval = TestEngines.FastPoll).UseSqlite(_scratch.Database);
        var again = builder.Services.AddRatchet().AddWorkflow(new WorkflowBuilder("mine").Node("A", Nodes.Ok()).Build());
        using var timeout = Within.Seconds();
        await using var host = await StartedAsync(builder, timeout.Token);
        var engine = host.Services.GetRequiredService<WorkflowEngine>();

        var started = await engine.StartAsync("mine", cancellationToken: timeout.Token);

        Assert.Same(ratchet, again);
        Assert.Equal("app-1", started.Id);
        Assert.Single(builder.Services, d => d.ServiceType == typeof(TimeProvider));
        Assert.Single(builder.Services, d => d.ServiceType == typeof(IWorkflowIdGenerator));
        Assert.Single(host.Services.GetServices<IHostedService>().OfType<RatchetWorkerService>());
        Assert.Equal(WorkflowStatus.Completed, (await engine.WaitForCompletionAsync(started.Id, timeout.Token)).Status);
    }

    [Fact]
    public async Task AddRatchet_HostStopsThenIsDisposed_RunnerStopsFirstThenTheEngineCloses()
    {
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var running = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var definition = new WorkflowBuilder("slow").Node("A", async (_, _) =>
        {
            running.TrySetResult();
            await release.Task;
            return NodeResult.Success();
        }).Build();
        var builder = NewHost();
        builder.Services.AddRatchet(o => o.PollInterval = TestEngines.FastPoll).UseSqlite(_scratch.Database).AddWorkflow(definition);
        using var timeout = Within.Seconds();
        var host = await StartedAsync(builder, timeout.Token);
        var engine = host.Services.GetRequiredService<WorkflowEngine>();
        var provider = host.Services.GetRequiredService<RatchetEngineProvider>();
        var started = await engine.StartAsync("slow", cancellationToken: timeout.Token);
        await running.Task.WaitAsync(timeout.Token);

        // A graceful stop lets the running node finish and commit before the store closes.
        var stopping = host.StopAsync(timeout.Token);
        release.TrySetResult();
        await stopping;
        var afterStop = await engine.Store.GetRequiredWorkflowAsync(started.Id, timeout.Token);
        await host.DisposeAsync();

        Assert.Equal(WorkflowStatus.Completed, afterStop.Status);
        Assert.Null(afterStop.LeaseOwner);
        Assert.Throws<ObjectDisposedException>(() => provider.Engine);
    }

    private static HostApplicationBuilder NewHost() =>
        Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });

    private static async Task<HostHandle> StartedAsync(HostApplicationBuilder builder, CancellationToken cancellationToken)
    {
        var host = builder.Build();
        try
        {
            await host.StartAsync(cancellationToken);
            return new HostHandle(host);
        }
        catch
        {
            await ((IAsyncDisposable)host).DisposeAsync();
            throw;
        }
    }

    /// <summary>A started host that is stopped and disposed at the end of the test.</summary>
    private sealed class HostHandle(IHost host) : IAsyncDisposable
    {
        private bool _stopped;

        public IServiceProvider Services => host.Services;

        public async Task StopAsync(CancellationToken cancellationToken)
        {
            _stopped = true;
            await host.StopAsync(cancellationToken);
        }

        public async ValueTask DisposeAsync()
        {
            if (!_stopped)
            {
                await StopAsync(CancellationToken.None);
            }

            await ((IAsyncDisposable)host).DisposeAsync();
        }
    }

    private sealed class CountingIds(string prefix) : IWorkflowIdGenerator
    {
        private int _next;

        public string NewId() => prefix + Interlocked.Increment(ref _next);
    }
}
