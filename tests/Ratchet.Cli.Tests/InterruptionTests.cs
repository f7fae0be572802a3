using System.Diagnostics;

namespace Ratchet.Cli.Tests;

/// <summary>
/// A <c>ratchet run</c> killed (SIGKILL) or interrupted (SIGINT, as Ctrl-C) in the middle of a node, then finished by
/// <c>ratchet resume</c> in a new process: every node that had completed ran exactly once, the interrupted one at most
/// twice, and resume does not wait for the dead process's lease to lapse.
/// </summary>
public sealed class InterruptionTests : IDisposable
{
    // Each node appends its name to side-effects.txt. 'slow' sleeps (in a child process it records) only the first
    // time it runs, so the test can interrupt it there and the resumed run goes straight through.
    private const string Flow = """
        name: interruptible
        nodes:
          one:
            run: echo one >> side-effects.txt
          two:
            run: echo two >> side-effects.txt
          slow:
            run: |-
              echo slow >> side-effects.txt; if [ ! -e slept ]; then touch slept; sleep 30 & echo $! > sleeper.pid; wait; fi
          four:
            run: echo four >> side-effects.txt
        """;

    private readonly CliSandbox _sandbox = new();

    public InterruptionTests()
    {
        _sandbox.Write("flow.yaml", Flow);
    }

    public void Dispose()
    {
        Leftovers.KillSleeper(_sandbox);
        _sandbox.Dispose();
    }

    [Fact]
    public async Task Resume_AfterRunWasKilledMidNode_CompletesRunningEachCompletedNodeOnce()
    {
        using var run = _sandbox.Start(["run", "flow.yaml", "--id", "crash-1"]);
        Assert.True(await Eventually.TrueAsync(() => _sandbox.ReadLines("side-effects.txt").Contains("slow") && File.Exists(_sandbox.File("sleeper.pid"))),
            $"The run never reached the slow node. {run.Stderr}");

        await run.KillAsync();
        var clock = Stopwatch.StartNew();
        var resumed = await _sandbox.RunAsync("resume", "crash-1");
        clock.Stop();

        Assert.True(resumed.ExitCode == 0, resumed.ToString());
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(10), $"resume took {clock.Elapsed}: it waited for the dead process's lease instead of releasing it.");
        var lines = _sandbox.ReadLines("side-effects.txt");
        Assert.Equal(1, lines.Count(l => l == "one"));
        Assert.Equal(1, lines.Count(l => l == "two"));
        Assert.InRange(lines.Count(l => l == "slow"), 1, 2);
        Assert.Equal(1, lines.Count(l => l == "four"));
        await using var store = await _sandbox.OpenStoreAsync();
        var workflow = await store.GetRequiredWorkflowAsync("crash-1");
        Assert.Equal(WorkflowStatus.Completed, workflow.Status);
        var completed = (await store.GetStepsAsync("crash-1")).Where(s => s.Outcome == StepOutcome.Completed).Select(s => s.Node);
        Assert.Equal(["one", "two", "slow", "four"], completed);
    }

    [Fact]
    public async Task Run_InterruptedWithSigint_ExitsWith130AndResumeCompletesIt()
    {
        using var run = _sandbox.Start(["run", "flow.yaml", "--id", "int-1"]);
        Assert.True(await Eventually.TrueAsync(() => _sandbox.ReadLines("side-effects.txt").Contains("slow") && File.Exists(_sandbox.File("sleeper.pid"))),
            $"The run never reached the slow node. {run.Stderr}");

        await run.SignalAsync("INT");
        var interrupted = await run.WaitAsync(TimeSpan.FromSeconds(20));
        var resumed = await _sandbox.RunAsync("resume", "int-1");

        Assert.True(interrupted.ExitCode == 130, interrupted.ToString());
        Assert.Contains("ratchet resume int-1", interrupted.Stderr, StringComparison.Ordinal);
        var sleeper = int.Parse(File.ReadAllText(_sandbox.File("sleeper.pid")).Trim(), System.Globalization.CultureInfo.InvariantCulture);
        Assert.True(await Eventually.TrueAsync(() => !File.Exists($"/proc/{sleeper}/status") || File.ReadAllText($"/proc/{sleeper}/status").Contains("State:\tZ", StringComparison.Ordinal), 5),
            "The interrupted node's command was left running.");
        Assert.True(resumed.ExitCode == 0, resumed.ToString());
        var lines = _sandbox.ReadLines("side-effects.txt");
        Assert.Equal([1, 1, 2, 1], new[] { "one", "two", "slow", "four" }.Select(n => lines.Count(l => l == n)));
        await using var store = await _sandbox.OpenStoreAsync();
        Assert.Equal(WorkflowStatus.Completed, (await store.GetRequiredWorkflowAsync("int-1")).Status);
    }
}
