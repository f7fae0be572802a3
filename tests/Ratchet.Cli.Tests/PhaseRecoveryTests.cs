using System.Diagnostics;
using Ratchet.Engine;

namespace Ratchet.Cli.Tests;

/// <summary>
/// A <c>ratchet phase</c> killed (SIGKILL) while its command runs is an ordinary interrupted workflow: <c>ratchet
/// resume</c> or a <c>ratchet worker</c> runs the phase on, and once it has ended <c>state cleanup</c> reaps it with
/// its phase record.
/// </summary>
public sealed class PhaseRecoveryTests : IDisposable
{
    private readonly CliSandbox _sandbox = new();

    public PhaseRecoveryTests()
    {
        // Sleeps (in a child process it records) only the first time it runs, so the test can kill ratchet there and
        // the phase run on afterwards goes straight through.
        _sandbox.Script("slow.sh", """
            echo run >> side-effects.txt
            if [ ! -e slept ]; then touch slept; sleep 30 & echo $! > sleeper.pid; wait; fi
            echo "built on attempt $RATCHET_ATTEMPT"
            """);
    }

    public void Dispose()
    {
        Leftovers.KillSleeper(_sandbox);
        _sandbox.Dispose();
    }

    [Fact]
    public async Task Resume_AfterPhaseWasKilledMidCommand_CompletesItsFinalPhase()
    {
        await KillMidPhaseAsync("ph-1", "--final");

        var clock = Stopwatch.StartNew();
        var resumed = await _sandbox.RunAsync("resume", "ph-1");
        clock.Stop();

        Assert.True(resumed.ExitCode == 0, resumed.ToString());
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(10), $"resume took {clock.Elapsed}: it waited for the dead process's lease instead of releasing it.");
        Assert.Equal(["run", "run"], _sandbox.ReadLines("side-effects.txt"));
        await using var store = await _sandbox.OpenStoreAsync();
        var workflow = await store.GetRequiredWorkflowAsync("ph-1");
        Assert.Equal(WorkflowStatus.Completed, workflow.Status);
        Assert.Equal("built on attempt 2", workflow.Artifacts["build"].GetString());
        Assert.Equal([("build", 2, StepOutcome.Completed)], (await store.GetStepsAsync("ph-1")).Select(s => (s.Node, s.Attempt, s.Outcome)));
        Assert.Contains(await store.GetEventsAsync("ph-1"), e => e.Type == AuditEventTypes.Recovered && e.Node == "build");
        Assert.Empty(await store.ListValuesAsync(PhaseWorkflows.Namespace));
    }

    [Fact]
    public async Task Worker_AfterPhaseWasKilledMidCommand_RunsThePhaseOnAndThePipelineGoesOn()
    {
        await KillMidPhaseAsync("ph-2");

        var worker = await _sandbox.RunAsync("worker", "--until-idle");
        var rerun = await _sandbox.ShellAsync(
            "set -o pipefail; ratchet phase build --id ph-2 -- ./slow.sh | ratchet phase ship --final -- 'echo shipped'");

        Assert.True(worker.ExitCode == 0, worker.ToString());
        Assert.True(rerun.ExitCode == 0, rerun.ToString());
        Assert.Contains(rerun.StderrLines, l => l.Contains("phase 'build' of workflow ph-2 already completed", StringComparison.Ordinal));
        Assert.Equal(["run", "run"], _sandbox.ReadLines("side-effects.txt"));
        await using var store = await _sandbox.OpenStoreAsync();
        var workflow = await store.GetRequiredWorkflowAsync("ph-2");
        Assert.Equal(WorkflowStatus.Completed, workflow.Status);
        Assert.Equal(("built on attempt 2", "shipped"), (workflow.Artifacts["build"].GetString(), workflow.Artifacts["ship"].GetString()));
    }

    [Fact]
    public async Task Cleanup_KilledPhaseWorkflowOnceCancelled_DeletesItWithItsPhaseRecord()
    {
        await KillMidPhaseAsync("ph-3");
        await using (var before = await _sandbox.OpenStoreAsync())
        {
            Assert.NotNull(await before.GetValueAsync(PhaseWorkflows.Namespace, "ph-3"));
        }

        var cancelled = await _sandbox.RunAsync("cancel", "ph-3");
        var cleaned = await _sandbox.RunAsync("state", "cleanup", "--older-than", "0s");

        Assert.True(cancelled.ExitCode == 0, cancelled.ToString());
        Assert.True(cleaned.ExitCode == 0, cleaned.ToString());
        Assert.Contains(cleaned.StdoutLines, l => l.StartsWith("deleted workflow ph-3 (fix, Cancelled", StringComparison.Ordinal));
        await using var store = await _sandbox.OpenStoreAsync();
        Assert.Null(await store.GetWorkflowAsync("ph-3"));
        Assert.Null(await store.GetValueAsync(PhaseWorkflows.Namespace, "ph-3"));
    }

    /// <summary>Starts phase 'build' of a new workflow, waits for its command to run, and SIGKILLs the ratchet process running it.</summary>
    private async Task KillMidPhaseAsync(string id, params string[] options)
    {
        Assert.Equal(0, (await _sandbox.RunAsync("state", "new", "--type", "fix", "--id", id)).ExitCode);
        using var phase = _sandbox.Start(["phase", "build", "--id", id, .. options, "--", "./slow.sh"]);
        Assert.True(await Eventually.TrueAsync(() => File.Exists(_sandbox.File("sleeper.pid"))), $"The phase's command never started. {phase.Stderr}");

        await phase.KillAsync();

        await using var store = await _sandbox.OpenStoreAsync();
        var killed = await store.GetRequiredWorkflowAsync(id);
        Assert.Equal((WorkflowStatus.Running, "build", 1), (killed.Status, killed.CurrentNode, killed.Attempt));
        Assert.Empty(await store.GetStepsAsync(id));
    }
}
