using System.Text.Json;

namespace Ratchet.Cli.Tests;

/// <summary>
/// <c>ratchet state new | ratchet phase A -- ... | ratchet phase B -- ...</c>: durable phases chained with pipes, a
/// failure in the middle, and a re-run that skips what completed.
/// </summary>
public sealed class PhaseCommandTests : IDisposable
{
    private const string Pipeline =
        "set -o pipefail; ratchet state new --type fix --id fix-1 --input issue=42 " +
        "| ratchet phase plan -- ./plan.sh " +
        "| ratchet phase build --outputs json -- ./build.sh " +
        "| ratchet phase ship --final -- ./ship.sh";

    private readonly CliSandbox _sandbox = new();

    public PhaseCommandTests()
    {
        _sandbox.Script("plan.sh", "echo plan >> side-effects.txt; echo \"plan for $RATCHET_INPUT_ISSUE\"\n");
        _sandbox.Script("build.sh", """
            echo build >> side-effects.txt
            state=$(cat)
            if [ ! -e fixed ]; then echo "build broke" >&2; exit 1; fi
            printf '{"attempt": %s, "saw": %s}\n' "$RATCHET_ATTEMPT" "$state"
            """);
        _sandbox.Script("ship.sh", "echo ship >> side-effects.txt; echo shipped\n");
    }

    public void Dispose() => _sandbox.Dispose();

    [Fact]
    public async Task Pipeline_FailingPhaseThenRerun_SkipsCompletedPhasesAndCompletes()
    {
        var first = await _sandbox.ShellAsync(Pipeline);

        Assert.True(first.ExitCode == 1, first.ToString());
        Assert.Empty(first.Stdout);
        Assert.Equal(["plan", "build"], _sandbox.ReadLines("side-effects.txt"));
        Assert.Contains(first.StderrLines, l => l.StartsWith("ratchet: error[phase-failed]: Phase 'build' of workflow fix-1 failed", StringComparison.Ordinal) && l.Contains("build broke", StringComparison.Ordinal));
        await using (var store = await _sandbox.OpenStoreAsync())
        {
            Assert.Equal(WorkflowStatus.Failed, (await store.GetRequiredWorkflowAsync("fix-1")).Status);
        }

        _sandbox.Write("fixed", "");
        var second = await _sandbox.ShellAsync(Pipeline);

        Assert.True(second.ExitCode == 0, second.ToString());
        Assert.Equal(["plan", "build", "build", "ship"], _sandbox.ReadLines("side-effects.txt"));
        Assert.Contains(second.StderrLines, l => l.Contains("phase 'plan' of workflow fix-1 already completed", StringComparison.Ordinal));
        var state = JsonDocument.Parse(second.Stdout).RootElement;
        Assert.Equal(("fix-1", "Completed"), (state.GetProperty("workflow").GetProperty("id").GetString(), state.GetProperty("workflow").GetProperty("status").GetString()));
        var artifacts = state.GetProperty("artifacts");
        Assert.Equal("plan for 42", artifacts.GetProperty("plan").GetString());
        Assert.Equal(2, artifacts.GetProperty("build").GetProperty("attempt").GetInt32());
        Assert.Equal("plan for 42", artifacts.GetProperty("build").GetProperty("saw").GetProperty("artifacts").GetProperty("plan").GetString());
        Assert.Equal("build", artifacts.GetProperty("build").GetProperty("saw").GetProperty("workflow").GetProperty("node").GetString());
        Assert.Equal("shipped", artifacts.GetProperty("ship").GetString());

        var third = await _sandbox.ShellAsync(Pipeline);
        Assert.True(third.ExitCode == 0, third.ToString());
        Assert.Equal(4, _sandbox.ReadLines("side-effects.txt").Count);

        await using var after = await _sandbox.OpenStoreAsync();
        var steps = await after.GetStepsAsync("fix-1");
        Assert.Equal([("plan", 1, StepOutcome.Completed), ("build", 1, StepOutcome.Failed), ("build", 2, StepOutcome.Completed), ("ship", 1, StepOutcome.Completed)],
            steps.Select(s => (s.Node, s.Attempt, s.Outcome)));
        Assert.Equal(4, (await after.GetCommandsAsync("fix-1")).Count);
        Assert.True(File.Exists(_sandbox.File("runs/fix-1/logs/build.log")));
    }

    [Fact]
    public async Task Phase_WithRetry_RunsAgainAfterAFailure()
    {
        _sandbox.Script("flaky.sh", "echo try >> tries.txt; [ \"$RATCHET_ATTEMPT\" -ge 2 ] || exit 3; echo ok\n");

        var result = await _sandbox.ShellAsync("set -o pipefail; ratchet state new --type retrying --id r-1 | ratchet phase flaky --retry 2 --retry-delay 10ms -- ./flaky.sh");

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Equal(["try", "try"], _sandbox.ReadLines("tries.txt"));
        Assert.Equal("ok", JsonDocument.Parse(result.Stdout).RootElement.GetProperty("artifacts").GetProperty("flaky").GetString());
    }

    [Fact]
    public async Task Phase_WithoutStateOnStandardInput_IsRefused()
    {
        var noDashes = await _sandbox.ShellAsync("ratchet state new --type t --id x-1 | ratchet phase plan ./plan.sh");
        var empty = await _sandbox.ShellAsync("printf '' | ratchet phase plan -- ./plan.sh");

        Assert.Equal(2, noDashes.ExitCode);
        Assert.Contains("after `--`", noDashes.Stderr, StringComparison.Ordinal);
        Assert.Equal(1, empty.ExitCode);
        Assert.Contains("No workflow state on standard input", empty.Stderr, StringComparison.Ordinal);
        Assert.Empty(_sandbox.ReadLines("side-effects.txt"));
    }
}
