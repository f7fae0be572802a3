using Ratchet.Conformance;
using Ratchet.Engine;
using Ratchet.Yaml.Tests;

namespace Ratchet.Hosting.Tests;

/// <summary>Phases through the host: each a node the engine runs and commits, its retries waiting as due times in the store.</summary>
public sealed class PhaseRunnerTests : IDisposable
{
    private readonly Scratch _scratch = new();

    public void Dispose() => _scratch.Dispose();

    [Fact]
    public async Task RunAsync_PhasesOfAPipeline_LeaveTheWorkflowBetweenPhasesThenCompleteIt()
    {
        await using var host = await OpenAsync();
        await host.Phases.CreateWorkflowAsync("fix", "fix-1", new Dictionary<string, string> { ["issue"] = "42" });

        var plan = await host.Phases.RunAsync("fix-1", Phase("plan", "echo \"plan for $RATCHET_INPUT_ISSUE\""));
        var between = await host.Store.GetRequiredWorkflowAsync("fix-1");
        var ship = await host.Phases.RunAsync("fix-1", Phase("ship", "cat") with { JsonOutput = true, Final = true });
        var again = await host.Phases.RunAsync("fix-1", Phase("plan", "exit 1"));

        Assert.Equal(PhaseOutcome.Completed, plan.Outcome);
        Assert.True(PhaseWorkflows.IsBetweenPhases(between), $"{between.Status} due {between.DueAt}");
        Assert.Null(between.LeaseOwner);
        Assert.Equal("plan for 42", between.Artifacts["plan"].GetString());
        Assert.Equal((PhaseOutcome.Completed, WorkflowStatus.Completed), (ship.Outcome, ship.Workflow.Status));
        Assert.Equal("plan for 42", ship.Workflow.Artifacts["ship"].GetProperty("artifacts").GetProperty("plan").GetString());
        Assert.Equal("ship", ship.Workflow.Artifacts["ship"].GetProperty("workflow").GetProperty("node").GetString());
        Assert.Equal((PhaseOutcome.Skipped, 1), (again.Outcome, again.Step!.Attempt));
        Assert.Empty(await host.Store.ListValuesAsync(PhaseWorkflows.Namespace));
    }

    [Fact]
    public async Task RunAsync_FailingAttempt_WaitsForItsRetryAsADueTimeInTheStore()
    {
        var clock = new FakeTimeProviderWithSystemTimers(DateTimeOffset.UtcNow);
        _scratch.Write("flaky.sh", "echo try >> tries.txt; [ \"$RATCHET_ATTEMPT\" -ge 2 ] || { echo broke >&2; exit 3; }; echo ok\n");
        await using var host = await OpenAsync(clock);
        await host.Phases.CreateWorkflowAsync("retrying", "r-1", new Dictionary<string, string>());

        var run = host.Phases.RunAsync("r-1", Phase("flaky", "sh flaky.sh") with { Retries = 1, RetryDelay = TimeSpan.FromMinutes(4) });
        WorkflowRecord? waiting = null;
        for (var i = 0; i < 400 && waiting is not { Status: WorkflowStatus.Waiting }; i++)
        {
            await Task.Delay(25);
            waiting = await host.Store.GetWorkflowAsync("r-1");
        }

        Assert.Equal((WorkflowStatus.Waiting, WaitReason.Timer, 2), (waiting!.Status, waiting.WaitReason, waiting.Attempt));
        Assert.InRange(waiting.DueAt!.Value - clock.GetUtcNow(), TimeSpan.FromMinutes(3), TimeSpan.FromMinutes(5));
        Assert.NotNull(await host.Store.GetValueAsync(PhaseWorkflows.Namespace, "r-1"));
        Assert.False(run.IsCompleted);

        clock.Advance(TimeSpan.FromMinutes(10));
        var result = await run.WaitAsync(TimeSpan.FromSeconds(30));

        Assert.Equal((PhaseOutcome.Completed, 2, "ok"), (result.Outcome, result.Attempts, result.Workflow.Artifacts["flaky"].GetString()));
        Assert.Equal([("flaky", 1, StepOutcome.Failed), ("flaky", 2, StepOutcome.Completed)],
            (await host.Store.GetStepsAsync("r-1")).Select(s => (s.Node, s.Attempt, s.Outcome)));
        Assert.Equal(["try", "try"], await File.ReadAllLinesAsync(_scratch.File("tries.txt")));
    }

    [Fact]
    public async Task RunAsync_FailedPhaseRunAgain_RetriesTheWorkflowFromItAtTheNextAttempt()
    {
        await using var host = await OpenAsync();
        await host.Phases.CreateWorkflowAsync("fix", "fix-2", new Dictionary<string, string>());

        var failed = await host.Phases.RunAsync("fix-2", Phase("build", "echo no >&2; exit 2"));
        PhaseStart? start = null;
        var retried = await host.Phases.RunAsync("fix-2", Phase("build", "echo \"$RATCHET_ATTEMPT\""), (s, _) =>
        {
            start = s;
            return Task.CompletedTask;
        });

        Assert.Equal((PhaseOutcome.Failed, WorkflowStatus.Failed), (failed.Outcome, failed.Workflow.Status));
        Assert.Equal("command exited with code 2: no. Its log is " + Path.Combine(host.Folders.RunFolder("fix-2"), "logs", "build.log") + ".",
            PhaseRunner.FailureDetail(failed));
        Assert.Equal(("build", 2), (start!.RetriedAfter!.Node, start.Attempt));
        Assert.Equal((PhaseOutcome.Completed, "2"), (retried.Outcome, retried.Workflow.Artifacts["build"].GetString()));
        Assert.Contains(await host.Store.GetEventsAsync("fix-2"), e => e.Type == AuditEventTypes.Retried && e.Node == "build");
    }

    [Fact]
    public async Task RunAsync_WorkflowWithADefinition_IsRefusedAndNothingRuns()
    {
        var file = _scratch.Write("flow.yaml", "name: plain\nnodes:\n  a: { run: echo a }\n");
        await using var host = await RatchetHost.OpenAsync(new RatchetHostOptions { Store = "sqlite:" + _scratch.Database, WorkflowFile = file });
        await host.Engine.StartAsync("plain", options: new StartOptions { Id = "plain-1" });

        var refused = await Assert.ThrowsAsync<NotAPhaseWorkflowException>(() => host.Phases.RunAsync("plain-1", Phase("x", "touch ran")));

        Assert.Equal("plain", refused.WorkflowType);
        Assert.False(File.Exists(_scratch.File("ran")));
        Assert.Empty(await host.Store.GetStepsAsync("plain-1"));
    }

    [Fact]
    public async Task RunAsync_CompletedWorkflow_RefusesAPhaseItNeverRan()
    {
        await using var host = await OpenAsync();
        await host.Phases.CreateWorkflowAsync("fix", "fix-3", new Dictionary<string, string>());
        await host.Phases.RunAsync("fix-3", Phase("only", "true") with { Final = true });

        var refused = await Assert.ThrowsAsync<InvalidTransitionException>(() => host.Phases.RunAsync("fix-3", Phase("late", "touch ran")));

        Assert.Equal("Workflow 'fix-3' is Completed, so phase 'late' (which has not completed in it) cannot run any more.", refused.Message);
        Assert.False(File.Exists(_scratch.File("ran")));
    }

    private Task<RatchetHost> OpenAsync(TimeProvider? clock = null) => RatchetHost.OpenAsync(new RatchetHostOptions
    {
        Store = "sqlite:" + _scratch.Database,
        LoadRecordedDefinitions = false,
        Clock = clock ?? TimeProvider.System,
    });

    private PhaseRequest Phase(string name, string command) => new() { Name = name, CommandLine = command, WorkingDirectory = _scratch.Path };
}
