using Ratchet.Conformance;

namespace Ratchet.Cli.Tests;

/// <summary>Durable timers and buffered signals across real <c>ratchet</c> processes.</summary>
public sealed class WaitCommandTests : IDisposable
{
    private readonly CliSandbox _sandbox = new();

    public void Dispose() => _sandbox.Dispose();

    [Fact]
    public async Task Sleep_WorkerKilledWhileItSleeps_ANewWorkerCompletesItOnceTheNodeAfterRunningOnce()
    {
        _sandbox.Write("nap.yaml", """
            name: nap
            nodes:
              before:
                run: echo before >> before.log
              nap:
                sleep: 2s
              after:
                run: echo after >> after.log
            """);
        Assert.Equal(0, (await _sandbox.RunAsync("run", "nap.yaml", "--id", "nap-1", "--detach")).ExitCode);

        var first = _sandbox.Start(["worker"]);
        await using (var store = await _sandbox.OpenStoreAsync())
        {
            Assert.True(await Eventually.TrueAsync(async () =>
                await store.GetWorkflowAsync("nap-1") is { Status: WorkflowStatus.Waiting, WaitReason: WaitReason.Timer }), "the workflow never slept");
        }

        await first.KillAsync();
        Assert.False(File.Exists(_sandbox.File("after.log")));

        using var second = _sandbox.Start(["worker"]);
        await using (var store = await _sandbox.OpenStoreAsync())
        {
            Assert.True(await Eventually.TrueAsync(async () => await store.GetWorkflowAsync("nap-1") is { Status: WorkflowStatus.Completed }, 30),
                "the sleep did not end after the restart");
            Assert.Equal(["before", "nap", "after"], (await store.GetStepsAsync("nap-1")).Select(s => s.Node));
        }

        await second.SignalAsync("INT");
        await second.WaitAsync();
        Assert.Equal(["before"], _sandbox.ReadLines("before.log"));
        Assert.Equal(["after"], _sandbox.ReadLines("after.log"));
    }

    [Fact]
    public async Task Signal_SentBeforeTheWorkflowWaits_BufferedThenDeliveredToTheWait()
    {
        _sandbox.Write("ci.yaml", """
            name: ci
            nodes:
              ci:
                wait: { signal: ci-finished, timeout: 1h }
                on: { timeout: gave_up }
              report:
                run: echo run {{ artifacts.ci.run }} > got.txt
                next: end
              gave_up:
                run: echo gave up > got.txt
            """);
        Assert.Equal(0, (await _sandbox.RunAsync("run", "ci.yaml", "--id", "ci-1", "--detach")).ExitCode);

        var signal = await _sandbox.RunAsync("signal", "ci-1", "ci-finished", "--data", """{"run":7}""");
        Assert.True(signal.ExitCode == 0, signal.ToString());
        Assert.Contains("buffered", signal.Stderr, StringComparison.Ordinal);

        var worker = await _sandbox.RunAsync("worker", "--until-idle");
        Assert.True(worker.ExitCode == 0, worker.ToString());
        Assert.Equal(["run 7"], _sandbox.ReadLines("got.txt"));
        await using var store = await _sandbox.OpenStoreAsync();
        Assert.Equal(WorkflowStatus.Completed, (await store.GetRequiredWorkflowAsync("ci-1")).Status);
        Assert.Empty(await store.GetPendingSignalsAsync("ci-1"));
    }

    [Fact]
    public async Task Approve_WithData_TheNextNodeSeesIt()
    {
        _sandbox.Write("plan.yaml", """
            name: plan
            nodes:
              review:
                approval: Build this plan?
              build:
                run: echo {{ artifacts.review.data.files }} > built.txt
            """);
        var run = await _sandbox.RunAsync("run", "plan.yaml", "--id", "plan-1");
        Assert.True(run.ExitCode == 3, run.ToString());

        var approved = await _sandbox.RunAsync("approve", "plan-1", "--data", """{"files":"a.cs"}""");

        Assert.True(approved.ExitCode == 0, approved.ToString());
        Assert.Equal(["a.cs"], _sandbox.ReadLines("built.txt"));
    }

    [Fact]
    public async Task Signal_DataThatIsNotJson_OneLineUsageErrorAndNothingBuffered()
    {
        _sandbox.Write("ci.yaml", """
            name: ci
            nodes:
              ci:
                wait: { signal: ci-finished }
            """);
        Assert.Equal(0, (await _sandbox.RunAsync("run", "ci.yaml", "--id", "ci-2", "--detach")).ExitCode);

        var signal = await _sandbox.RunAsync("signal", "ci-2", "ci-finished", "--data", "{green");

        Assert.Equal(2, signal.ExitCode);
        var line = Assert.Single(signal.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Contains("The signal's --data is not JSON", line, StringComparison.Ordinal);
        await using var store = await _sandbox.OpenStoreAsync();
        Assert.Empty(await store.GetPendingSignalsAsync("ci-2"));
    }
}
