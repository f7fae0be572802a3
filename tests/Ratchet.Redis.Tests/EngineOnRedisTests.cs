using Ratchet.Conformance;
using Ratchet.Engine;

namespace Ratchet.Redis.Tests;

/// <summary>The engine, built with <c>UseRedis</c>, runs workflows on the Redis store.</summary>
public sealed class EngineOnRedisTests
{
    [StoreFact]
    public async Task BuildAsync_UseRedisWithUseClock_RunsAWorkflowToCompletionOnTheEngineClock()
    {
        var prefix = RedisStoreFactory.NewPrefix();
        // RunUntilIdleAsync sees the work done at its next poll, a timer: it runs in real time on this still clock.
        var clock = new FakeTimeProviderWithSystemTimers(new DateTimeOffset(2030, 6, 1, 0, 0, 0, TimeSpan.Zero));
        var definition = new WorkflowBuilder("two-steps")
            .Node("A", static (_, _) => Task.FromResult(NodeResult.Success(new { greeting = "hello" })))
            .Then("B")
            .Node("B", static (_, _) => Task.FromResult(NodeResult.Success()))
            .Build();
        await using var engine = await new RatchetBuilder()
            .UseRedis(RedisStoreFactory.Server, o => o.KeyPrefix = prefix)
            .AddWorkflow(definition)
            .UseClock(clock)
            .Configure(o => o.PollInterval = TimeSpan.FromMilliseconds(20))
            .BuildAsync();
        try
        {
            var started = await engine.StartAsync("two-steps");
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));

            await engine.CreateRunner().RunUntilIdleAsync(timeout.Token);

            var workflow = await engine.Store.GetWorkflowAsync(started.Id, timeout.Token);
            Assert.Equal(WorkflowStatus.Completed, workflow!.Status);
            Assert.Equal(clock.GetUtcNow(), workflow.CompletedAt);
            Assert.Equal("hello", workflow.Artifacts["A"].GetProperty("greeting").GetString());
            Assert.Equal(["A", "B"], (await engine.Store.GetStepsAsync(started.Id, timeout.Token)).Select(s => s.Node));
            Assert.StartsWith("redis://", engine.Store.Description, StringComparison.Ordinal);
        }
        finally
        {
            await ((RedisRatchetStore)engine.Store).DeleteAllKeysAsync();
        }
    }
}
