using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Ratchet.Conformance;
using Ratchet.Sqlite;

namespace Ratchet.Engine.Tests;

/// <summary>Issue 3, point 3: the hosted worker registered with <c>services.AddRatchet(...)</c>, and the plain builder.</summary>
public sealed class HostingTests : IDisposable
{
    private readonly Scratch _scratch = new();

    public void Dispose() => _scratch.Dispose();

    [Fact]
    public async Task AddRatchet_HostedWorkerWithNodeFromTheContainer_RunsAWorkflowToCompletion()
    {
        var definition = new WorkflowBuilder("greeting")
            .Node<GreetNode>("Greet")
            .Build();
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Services.AddSingleton<IGreeter>(new Greeter("Hello"));
        builder.Services.AddRatchet(o => o.PollInterval = TimeSpan.FromMilliseconds(50))
            .UseSqlite(_scratch.Database)
            .AddWorkflow(definition)
            .AddNode<GreetNode>();
        using var timeout = Within.Seconds();
        var host = builder.Build();
        try
        {
            await host.StartAsync(timeout.Token);
            var engine = host.Services.GetRequiredService<WorkflowEngine>();
            var worker = Assert.Single(host.Services.GetServices<IHostedService>().OfType<RatchetWorkerService>());
            Assert.NotNull(worker.Runner);

            var started = await engine.StartAsync("greeting", new { name = "Ada" }, cancellationToken: timeout.Token);
            var done = await engine.WaitForCompletionAsync(started.Id, timeout.Token);

            Assert.Equal(WorkflowStatus.Completed, done.Status);
            Assert.Equal("Hello, Ada", done.Artifacts["Greet"].GetString());
            Assert.Same(engine.Store, host.Services.GetRequiredService<IRatchetStore>());
            await host.StopAsync(timeout.Token);
        }
        finally
        {
            await ((IAsyncDisposable)host).DisposeAsync();
        }
    }

    [Fact]
    public void AddRatchet_WithoutAStore_SaysWhatIsMissing()
    {
        var services = new ServiceCollection();
        services.AddRatchet();
        using var provider = services.BuildServiceProvider();

        var error = Assert.Throws<InvalidOperationException>(() => provider.GetRequiredService<WorkflowEngine>());

        Assert.Contains("UseSqlite", error.Message);
    }

    [Fact]
    public async Task BuildAsync_InvalidOptions_ListsEveryProblem()
    {
        var error = await Assert.ThrowsAsync<ArgumentException>(() => new RatchetBuilder()
            .UseSqlite(_scratch.Database)
            .Configure(o =>
            {
                o.MaxConcurrency = 0;
                o.LeaseDuration = TimeSpan.Zero;
            })
            .BuildAsync());

        Assert.Contains("MaxConcurrency is 0", error.Message);
        Assert.Contains("LeaseDuration is", error.Message);
    }

    [Fact]
    public async Task BuildAsync_UseClockWithUseSqlite_StoreRunsOnTheEngineClock()
    {
        // A clock far from the real one: if the store kept the system clock, leases and due times would disagree with
        // the engine's (a workflow created "in 2030" would never be due for a store living in the present).
        // RunUntilIdleAsync sees the work done at its next poll, a timer: it runs in real time on this still clock.
        var clock = new FakeTimeProviderWithSystemTimers(new DateTimeOffset(2030, 6, 1, 0, 0, 0, TimeSpan.Zero));
        var definition = new WorkflowBuilder("clocked").Node("A", Nodes.Ok()).Build();
        await using var engine = await new RatchetBuilder()
            .UseSqlite(_scratch.Database)
            .AddWorkflow(definition)
            .UseClock(clock)
            .Configure(o => o.PollInterval = TestEngines.FastPoll)
            .BuildAsync();
        var started = await engine.StartAsync("clocked");
        using var timeout = Within.Seconds();

        await engine.CreateRunner().RunUntilIdleAsync(timeout.Token);

        var workflow = await engine.Store.GetRequiredWorkflowAsync(started.Id, timeout.Token);
        Assert.Equal(WorkflowStatus.Completed, workflow.Status);
        Assert.Equal(clock.GetUtcNow(), workflow.CompletedAt);
    }

    private interface IGreeter
    {
        string Greet(string name);
    }

    private sealed class Greeter(string greeting) : IGreeter
    {
        public string Greet(string name) => $"{greeting}, {name}";
    }

    private sealed class GreetNode(IGreeter greeter) : IWorkflowNode
    {
        public Task<NodeResult> ExecuteAsync(NodeContext context, CancellationToken cancellationToken) =>
            Task.FromResult(NodeResult.Success(greeter.Greet(context.Input!.Value.GetProperty("name").GetString()!)));
    }
}
