namespace Ratchet.Cli.Tests;

/// <summary>
/// Issue 10, point 7.2: a command given <c>--detach</c> that did what was asked (an approval or rejection recorded, a
/// retry or resume made due) exits 0 and leaves the running to a worker; it is not a failed command.
/// </summary>
public sealed class DetachTests : IDisposable
{
    private const string Flow = """
        name: release
        nodes:
          build:
            run: echo built >> marks.txt
          ask:
            approval: Ship the release?
            on: { rejected: undo }
          ship:
            run: echo shipped >> marks.txt
            next: end
          undo:
            run: echo undone >> marks.txt
        """;

    private readonly CliSandbox _sandbox = new();

    public DetachTests()
    {
        _sandbox.Write("release.yaml", Flow);
    }

    public void Dispose() => _sandbox.Dispose();

    [Fact]
    public async Task Approve_Detached_ExitsZeroAndAWorkerRunsItOn()
    {
        var waiting = await _sandbox.RunAsync("run", "release.yaml", "--id", "rel-1");

        var approved = await _sandbox.RunAsync("approve", "rel-1", "--detach");

        Assert.True(waiting.ExitCode == 3, waiting.ToString());
        Assert.True(approved.ExitCode == 0, approved.ToString());
        Assert.Equal("Workflow rel-1 goes on at node 'ship': a `ratchet worker` runs it, or `ratchet resume rel-1` here.", Assert.Single(approved.StdoutLines));
        Assert.Equal(["built"], _sandbox.ReadLines("marks.txt"));
        await RunWorkerAsync();
        Assert.Equal(["built", "shipped"], _sandbox.ReadLines("marks.txt"));
    }

    [Fact]
    public async Task Reject_DetachedWithARejectedPath_ExitsZeroAndAWorkerTakesThePath()
    {
        await _sandbox.RunAsync("run", "release.yaml", "--id", "rel-2");

        var rejected = await _sandbox.RunAsync("reject", "rel-2", "--comment", "not now", "--detach");

        Assert.True(rejected.ExitCode == 0, rejected.ToString());
        Assert.Contains("at node 'undo'", Assert.Single(rejected.StdoutLines), StringComparison.Ordinal);
        await RunWorkerAsync();
        Assert.Equal(["built", "undone"], _sandbox.ReadLines("marks.txt"));
    }

    [Fact]
    public async Task Retry_Detached_ExitsZeroAndAWorkerRunsTheFailedNodeAgain()
    {
        _sandbox.Write("fixable.yaml", "name: fixable\nnodes:\n  check: { run: test -f fixed.txt && echo checked >> marks.txt }\n");
        var failed = await _sandbox.RunAsync("run", "fixable.yaml", "--id", "fix-1");
        _sandbox.Write("fixed.txt", "yes");

        var retried = await _sandbox.RunAsync("retry", "fix-1", "--detach");

        Assert.True(failed.ExitCode == 1, failed.ToString());
        Assert.True(retried.ExitCode == 0, retried.ToString());
        Assert.Empty(_sandbox.ReadLines("marks.txt"));
        await RunWorkerAsync();
        Assert.Equal(["checked"], _sandbox.ReadLines("marks.txt"));
    }

    [Fact]
    public async Task Resume_DetachedOnAPendingWorkflow_ExitsZero()
    {
        await _sandbox.RunAsync("run", "release.yaml", "--id", "rel-3", "--detach");

        var resumed = await _sandbox.RunAsync("resume", "rel-3", "--detach");
        var json = await _sandbox.RunAsync("resume", "rel-3", "--detach", "--json");

        Assert.True(resumed.ExitCode == 0, resumed.ToString());
        Assert.StartsWith("Workflow rel-3 goes on", Assert.Single(resumed.StdoutLines), StringComparison.Ordinal);
        Assert.True(json.ExitCode == 0, json.ToString());
        Assert.Equal("Pending", System.Text.Json.JsonDocument.Parse(json.Stdout).RootElement.GetProperty("status").GetString());
        Assert.Empty(_sandbox.ReadLines("marks.txt"));
    }

    [Fact]
    public async Task Reject_DetachedWithoutARejectedPath_ExitsOneAsTheWorkflowFailed()
    {
        // Nothing is left to run: the code says how the workflow ended, as it does without --detach.
        _sandbox.Write("strict.yaml", "name: strict\nnodes:\n  ask: { approval: Go? }\n  go: { run: echo go }\n");
        await _sandbox.RunAsync("run", "strict.yaml", "--id", "strict-1");

        var rejected = await _sandbox.RunAsync("reject", "strict-1", "--comment", "no", "--detach");

        Assert.True(rejected.ExitCode == 1, rejected.ToString());
        await using var store = await _sandbox.OpenStoreAsync();
        Assert.Equal(WorkflowStatus.Failed, (await store.GetRequiredWorkflowAsync("strict-1")).Status);
    }

    private async Task RunWorkerAsync()
    {
        var worker = await _sandbox.RunAsync("worker", "--until-idle");
        Assert.True(worker.ExitCode == 0, worker.ToString());
    }
}
