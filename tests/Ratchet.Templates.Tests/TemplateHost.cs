using Microsoft.Data.Sqlite;
using Microsoft.Extensions.DependencyInjection;
using Ratchet.Engine;
using Ratchet.Sqlite;

namespace Ratchet.Templates.Tests;

/// <summary>
/// An engine on a temporary SQLite store with a running runner, whose nodes resolve the test's step implementations
/// from a <see cref="ServiceCollection"/>: built through <c>AddRatchet</c> or through the plain <see cref="RatchetBuilder"/>.
/// Disposing it stops everything and deletes the store.
/// </summary>
internal sealed class TemplateHost : IAsyncDisposable
{
    private static readonly TimeSpan WaitLimit = TimeSpan.FromSeconds(30);

    private readonly DirectoryInfo _directory;
    private readonly ServiceProvider _provider;
    private readonly WorkflowRunner _runner;
    private readonly bool _ownsEngine;

    private TemplateHost(DirectoryInfo directory, ServiceProvider provider, WorkflowEngine engine, WorkflowRunner runner, bool ownsEngine)
    {
        _directory = directory;
        _provider = provider;
        Engine = engine;
        _runner = runner;
        _ownsEngine = ownsEngine;
    }

    public WorkflowEngine Engine { get; }

    /// <summary>A host's engine: <c>services.AddRatchet().UseSqlite(path)</c> plus the templates <paramref name="addTemplates"/> adds.</summary>
    public static async Task<TemplateHost> StartAsync(FakeSteps steps, Action<RatchetServiceBuilder> addTemplates, params Type[] unregistered)
    {
        var directory = Directory.CreateTempSubdirectory("ratchet-templates-test-");
        var services = new ServiceCollection();
        steps.Register(services, unregistered);
        addTemplates(services.AddRatchet(o => o.PollInterval = TimeSpan.FromMilliseconds(200)).UseSqlite(Path.Combine(directory.FullName, "ratchet.db")));
        var provider = services.BuildServiceProvider(new ServiceProviderOptions { ValidateScopes = true });
        var engine = await provider.GetRequiredService<RatchetEngineProvider>().GetEngineAsync();
        return await StartRunnerAsync(directory, provider, engine, ownsEngine: false);
    }

    /// <summary>The plain builder's engine, with the test's services passed to <see cref="RatchetBuilder.UseServices"/>.</summary>
    public static async Task<TemplateHost> StartPlainAsync(FakeSteps steps, Func<RatchetBuilder, RatchetBuilder> addTemplates)
    {
        var directory = Directory.CreateTempSubdirectory("ratchet-templates-test-");
        var services = new ServiceCollection();
        steps.Register(services);
        var provider = services.BuildServiceProvider(new ServiceProviderOptions { ValidateScopes = true });
        var builder = new RatchetBuilder()
            .UseSqlite(Path.Combine(directory.FullName, "ratchet.db"))
            .UseServices(provider)
            .Configure(o => o.PollInterval = TimeSpan.FromMilliseconds(200));
        var engine = await addTemplates(builder).BuildAsync();
        return await StartRunnerAsync(directory, provider, engine, ownsEngine: true);
    }

    /// <summary>Starts a workflow and waits until it has ended.</summary>
    public async Task<WorkflowRecord> RunAsync(string type, object? input)
    {
        var started = await Engine.StartAsync(type, input);
        return await WaitForAsync(started.Id, static w => w.IsTerminal);
    }

    /// <summary>Waits until the stored workflow satisfies <paramref name="condition"/>, for at most 30 seconds.</summary>
    public async Task<WorkflowRecord> WaitForAsync(string workflowId, Func<WorkflowRecord, bool> condition)
    {
        using var limit = new CancellationTokenSource(WaitLimit);
        return await Engine.WaitForAsync(workflowId, condition, limit.Token);
    }

    /// <summary>The workflow's step journal as (node, attempt, outcome), in order.</summary>
    public async Task<IReadOnlyList<(string Node, int Attempt, StepOutcome Outcome)>> JournalAsync(string workflowId) =>
        (await Engine.Store.GetStepsAsync(workflowId)).Select(s => (s.Node, s.Attempt, s.Outcome)).ToArray();

    public async ValueTask DisposeAsync()
    {
        await _runner.DisposeAsync();
        if (_ownsEngine)
        {
            await Engine.DisposeAsync();
        }

        await _provider.DisposeAsync();
        SqliteConnection.ClearAllPools();
        _directory.Delete(recursive: true);
    }

    private static async Task<TemplateHost> StartRunnerAsync(DirectoryInfo directory, ServiceProvider provider, WorkflowEngine engine, bool ownsEngine)
    {
        var runner = engine.CreateRunner();
        await runner.StartAsync();
        return new TemplateHost(directory, provider, engine, runner, ownsEngine);
    }
}

/// <summary>Reading artifacts of a finished workflow as the templates' types.</summary>
internal static class Artifacts
{
    public static T Get<T>(this WorkflowRecord workflow, string key) =>
        System.Text.Json.JsonSerializer.Deserialize<T>(workflow.Artifacts[key], WorkflowJson.Options)!;

    /// <summary>A retry policy for tests: <paramref name="attempts"/> attempts 10 ms apart, retrying what the templates retry.</summary>
    public static RetryPolicy FastRetry(int attempts) => new()
    {
        MaxAttempts = attempts,
        InitialDelay = TimeSpan.FromMilliseconds(10),
        MaxDelay = TimeSpan.FromMilliseconds(50),
        Jitter = 0,
        ShouldRetry = TemplateRetryPolicies.IsRetryable,
    };
}
