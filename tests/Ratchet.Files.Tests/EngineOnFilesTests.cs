using Ratchet.Conformance;
using Ratchet.Engine;

namespace Ratchet.Files.Tests;

/// <summary>The engine, built with <c>UseFiles</c>, runs workflows on the file store and leaves them readable on disk.</summary>
public sealed class EngineOnFilesTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("ratchet-files-engine-").FullName;

    public void Dispose()
    {
        if (Directory.Exists(_root))
        {
            Directory.Delete(_root, recursive: true);
        }
    }

    [Fact]
    public async Task BuildAsync_UseFilesWithUseClock_RunsAWorkflowToCompletionOnTheEngineClock()
    {
        // RunUntilIdleAsync sees the work done at its next poll, a timer: it runs in real time on this still clock.
        var clock = new FakeTimeProviderWithSystemTimers(new DateTimeOffset(2030, 6, 1, 0, 0, 0, TimeSpan.Zero));
        var definition = new WorkflowBuilder("two-steps")
            .Node("A", static (_, _) => Task.FromResult(NodeResult.Success(new { greeting = "hello" })))
            .Then("B")
            .Node("B", static (_, _) => Task.FromResult(NodeResult.Success()))
            .Build();
        await using var engine = await new RatchetBuilder()
            .UseFiles(Path.Combine(_root, "state"))
            .AddWorkflow(definition)
            .UseClock(clock)
            .Configure(o => o.PollInterval = TimeSpan.FromMilliseconds(20))
            .BuildAsync();
        var started = await engine.StartAsync("two-steps");
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));

        await engine.CreateRunner().RunUntilIdleAsync(timeout.Token);

        var workflow = await engine.Store.GetWorkflowAsync(started.Id, timeout.Token);
        Assert.Equal(WorkflowStatus.Completed, workflow!.Status);
        Assert.Equal(clock.GetUtcNow(), workflow.CompletedAt);
        Assert.Equal("hello", workflow.Artifacts["A"].GetProperty("greeting").GetString());
        Assert.Equal(["A", "B"], (await engine.Store.GetStepsAsync(started.Id, timeout.Token)).Select(s => s.Node));
        var folder = Assert.Single(Directory.GetDirectories(Path.Combine(_root, "state", "workflows")));
        Assert.True(File.Exists(Path.Combine(folder, "state.json")));
        Assert.Equal(2, File.ReadAllLines(Path.Combine(folder, "steps.jsonl")).Length);
    }
}
