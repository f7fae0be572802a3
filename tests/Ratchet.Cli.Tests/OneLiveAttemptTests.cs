using System.Diagnostics;
using System.Globalization;
using Ratchet.Conformance;

namespace Ratchet.Cli.Tests;

/// <summary>
/// "At most one live attempt of a node, anywhere", tried with real <c>ratchet</c> processes and real signals. Every node
/// of the workflows here appends a <c>start</c> line when it begins and an <c>end</c> line when it is done to a shared
/// file, each with the node, the attempt, its pid and a timestamp, so the tests can count side effects and check that
/// no two runs of one node overlapped in time. Each backend runs the scenarios through a subclass.
/// </summary>
public abstract class OneLiveAttemptTests : IAsyncLifetime
{
    // 'build' runs until the test lets it end (the file 'release'), so a second process started against it certainly
    // finds it running however slowly processes start on a loaded machine; 'after' is quick.
    private const string Flow = """
        name: once
        nodes:
          build:
            run: ./effect.sh build hold
          after:
            run: ./effect.sh after 0
        """;

    private CliSandbox? _sandbox;
    private IRatchetStore? _store;

    /// <summary>A new, empty store: its URI for the CLI and an open handle for the test to look into.</summary>
    protected abstract Task<(string Uri, IRatchetStore Store)> CreateStoreAsync();

    /// <summary>Deletes what <see cref="CreateStoreAsync"/> made (the handle is already closed).</summary>
    protected virtual Task DropStoreAsync(string uri) => Task.CompletedTask;

    private CliSandbox Sandbox => _sandbox ?? throw new InvalidOperationException("Call OpenAsync first.");

    private IRatchetStore Store => _store ?? throw new InvalidOperationException("Call OpenAsync first.");

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        if (_store is not null)
        {
            await _store.DisposeAsync();
        }

        if (_sandbox is not null)
        {
            KillLeftovers();
            await DropStoreAsync(_sandbox.Store);
            _sandbox.Dispose();
        }
    }

    [StoreFact]
    public async Task RunTwice_SameIdAtOnce_EveryNodeRunsOnceWithoutOverlap()
    {
        await OpenAsync();
        using var first = Sandbox.Start(["run", "flow.yaml", "--id", "dup-1"]);
        await WaitForStartAsync("build", first);
        var shown = await Sandbox.RunAsync("state", "show", "dup-1");
        using var following = Sandbox.Start(["run", "flow.yaml", "--id", "dup-1"]);
        await WaitForFollowingAsync(following);
        Release();
        var second = await following.WaitAsync();
        var firstResult = await first.WaitAsync();

        Assert.True(firstResult.ExitCode == 0, firstResult.ToString());
        Assert.True(second.ExitCode == 0, second.ToString());
        Assert.Contains($"is running in pid {first.Id} on", second.Stderr, StringComparison.Ordinal);
        Assert.Contains($"Running (running in pid {first.Id} on", shown.Stdout, StringComparison.Ordinal);
        AssertEachNodeOnce(["build", "after"]);
        Assert.Equal(WorkflowStatus.Completed, (await Store.GetRequiredWorkflowAsync("dup-1")).Status);
    }

    [StoreFact]
    public async Task Resume_OfALiveRun_FollowsItAndRunsNothing()
    {
        await OpenAsync();
        using var run = Sandbox.Start(["run", "flow.yaml", "--id", "live-1"]);
        await WaitForStartAsync("build", run);
        using var resuming = Sandbox.Start(["resume", "live-1"]);
        await WaitForFollowingAsync(resuming);
        Release();
        var resumed = await resuming.WaitAsync();
        var runResult = await run.WaitAsync();

        Assert.True(runResult.ExitCode == 0, runResult.ToString());
        Assert.True(resumed.ExitCode == 0, resumed.ToString());
        Assert.DoesNotContain("recovered", resumed.Stderr, StringComparison.Ordinal);
        AssertEachNodeOnce(["build", "after"]);
        Assert.DoesNotContain(await Store.GetEventsAsync("live-1"), e => e.Type == AuditEventTypes.Recovered);
    }

    [StoreFact]
    public async Task WorkerAndRun_OnOneStore_EveryNodeRunsOnce()
    {
        await OpenAsync();
        using var run = Sandbox.Start(["run", "flow.yaml", "--id", "shared-1"]);
        await WaitForStartAsync("build", run);
        using var worker = Sandbox.Start(["worker", "--concurrency", "2", "--lease", "3s", "--verbose"]);

        // Its recovery line follows its first look at the store, which saw build running and leased to the run.
        Assert.True(await Eventually.TrueAsync(() => worker.Stderr.Contains("Recovery of worker", StringComparison.Ordinal), seconds: 60), worker.Stderr);
        Release();
        var runResult = await run.WaitAsync();
        await worker.SignalAsync("INT");
        var workerResult = await worker.WaitAsync(TimeSpan.FromSeconds(30));

        Assert.True(runResult.ExitCode == 0, runResult.ToString());
        Assert.True(workerResult.ExitCode == 130, workerResult.ToString());
        AssertEachNodeOnce(["build", "after"]);
    }

    [StoreFact]
    public async Task Sigkill_OfRatchetMidNode_LeavesNoCommandRunningBeforeAttemptTwo()
    {
        await OpenAsync();
        using var run = Sandbox.Start(["run", "flow.yaml", "--id", "kill-1"]);
        var started = await WaitForStartAsync("build", run);
        await run.KillAsync();

        // Nothing may be left of attempt 1 once ratchet is gone: not even before anyone resumes the workflow.
        Assert.True(await Eventually.TrueAsync(() => !IsRunning(started.Pid), seconds: 15), $"attempt 1's command (pid {started.Pid}) outlived the killed ratchet.");
        var listed = await Sandbox.RunAsync("state", "list");
        Assert.Contains($"interrupted: pid {run.Id} on", listed.Stdout, StringComparison.Ordinal);
        Assert.Contains("is gone; `ratchet resume kill-1` takes it over", listed.Stdout, StringComparison.Ordinal);
        Release();
        var resumed = await Sandbox.RunAsync("resume", "kill-1");

        Assert.True(resumed.ExitCode == 0, resumed.ToString());
        var lines = Effects();
        Assert.Equal(1, lines.Count(l => l.Node == "build" && l.Kind == "end"));
        var second = Assert.Single(lines, l => l.Node == "build" && l.Kind == "start" && l.Attempt == 2);
        Assert.False(second.OthersAlive, "attempt 2 started while attempt 1's command still ran.");
        Assert.DoesNotContain(lines, l => l.Node == "build" && l.Kind == "end" && l.Attempt == 1);
        AssertNoOverlap(lines);
    }

    [StoreFact]
    public async Task Cancel_FromAnotherProcess_StopsTheCommandWithinTheGracePeriod()
    {
        await OpenAsync();
        Sandbox.Write("long.yaml", """
            name: long
            nodes:
              wait:
                run: ./effect.sh wait 60
            """);
        using var run = Sandbox.Start(["run", "long.yaml", "--id", "cancel-1"]);
        var started = await WaitForStartAsync("wait", run);
        using var cancel = Sandbox.Start(["cancel", "cancel-1"]);

        // From the moment the cancel is committed (not counting the cancel command's own start-up) to the command's end.
        Assert.True(await Eventually.TrueAsync(async () => (await Store.GetRequiredWorkflowAsync("cancel-1")).Status == WorkflowStatus.Cancelled, seconds: 30),
            $"the cancel was never committed.\n{cancel.Stderr}");
        var clock = Stopwatch.StartNew();
        Assert.True(await Eventually.TrueAsync(() => !IsRunning(started.Pid), seconds: 15), "the cancelled node's command still runs.");
        var stoppedWithin = clock.Elapsed;
        var cancelled = await cancel.WaitAsync();
        var runResult = await run.WaitAsync(TimeSpan.FromSeconds(30));

        Assert.True(cancelled.ExitCode == 0, cancelled.ToString());
        Assert.Contains("was stopped", cancelled.Stderr, StringComparison.Ordinal);
        Assert.True(stoppedWithin < TimeSpan.FromSeconds(2), $"the command ran on for {stoppedWithin} after the cancel was committed.");
        Assert.True(runResult.ExitCode == 1, runResult.ToString());
        Assert.DoesNotContain(Effects(), l => l.Kind == "end");
        var workflow = await Store.GetRequiredWorkflowAsync("cancel-1");
        Assert.Equal((WorkflowStatus.Cancelled, (string?)null), (workflow.Status, workflow.LeaseOwner));
    }

    [StoreFact]
    public async Task CtrlC_ToTheProcessGroup_LeavesItResumableWithTheAttemptUnchanged()
    {
        await OpenAsync();
        Sandbox.Write("retrying.yaml", """
            name: retrying
            nodes:
              build:
                run: ./effect.sh build hold
                retry: { max_attempts: 1 }
                on:
                  success: after
                  failure: failed
              after:
                run: ./effect.sh after 0
                on: { success: end }
              failed:
                run: ./effect.sh failed 0
            """);

        // As at a terminal: ratchet leads a process group of its own, and Ctrl-C is SIGINT to the whole group.
        using var run = Sandbox.Start(["run", "retrying.yaml", "--id", "ctrlc-1"], newProcessGroup: true);
        var started = await WaitForStartAsync("build", run);
        await run.SignalGroupAsync("INT");
        var interrupted = await run.WaitAsync(TimeSpan.FromSeconds(30));

        Assert.True(interrupted.ExitCode == 130, interrupted.ToString());
        Assert.Contains("ratchet resume ctrlc-1", interrupted.Stderr, StringComparison.Ordinal);
        Assert.False(IsRunning(started.Pid), "the interrupted node's command still runs.");
        var left = await Store.GetRequiredWorkflowAsync("ctrlc-1");
        Assert.Equal((WorkflowStatus.Waiting, WaitReason.Interrupted, "build", 1), (left.Status, left.WaitReason, left.CurrentNode, left.Attempt));
        Assert.DoesNotContain(await Store.GetStepsAsync("ctrlc-1"), s => s.Outcome == StepOutcome.Failed);

        Release();
        var resumed = await Sandbox.RunAsync("resume", "ctrlc-1");
        Assert.True(resumed.ExitCode == 0, resumed.ToString());
        var lines = Effects();
        Assert.Equal([1, 1], lines.Where(l => l.Node == "build" && l.Kind == "start").Select(l => l.Attempt));
        Assert.DoesNotContain(lines, l => l.Node == "failed");
        Assert.Single(lines, l => l.Node == "after" && l.Kind == "end");
        Assert.Equal(WorkflowStatus.Completed, (await Store.GetRequiredWorkflowAsync("ctrlc-1")).Status);
    }

    [StoreFact]
    public async Task WorkersKilledAtRandom_UnderLoad_ThenOneUntilIdle_CompletesEveryWorkflowOnce()
    {
        await OpenAsync();
        Sandbox.Write("load.yaml", """
            name: load
            nodes:
              one:
                run: ./effect.sh one 0.2
              two:
                run: ./effect.sh two 0.3
              three:
                run: ./effect.sh three 0.2
            """);
        const int count = 12;
        await Sandbox.StartDetachedAsync("load.yaml", Enumerable.Range(0, count).Select(i => $"load-{i:D2}"));

        // Six workers, each SIGKILLed at a random moment while the fleet works; a fresh one starts for each.
        var random = new Random(20261203);
        var workers = Enumerable.Range(0, 2).Select(_ => Sandbox.Start(["worker", "--concurrency", "3", "--lease", "30s"])).ToList();
        try
        {
            for (var kill = 0; kill < 6; kill++)
            {
                await Task.Delay(TimeSpan.FromMilliseconds(900 + random.Next(900)));
                var victim = workers[random.Next(workers.Count)];
                await victim.KillAsync();
                workers.Remove(victim);
                victim.Dispose();
                workers.Add(Sandbox.Start(["worker", "--concurrency", "3", "--lease", "30s"]));
            }
        }
        finally
        {
            foreach (var worker in workers)
            {
                await worker.KillAsync();
                worker.Dispose();
            }
        }

        // The dead workers' leases (30 s) have not lapsed: --until-idle must take their work over now, not exit.
        var finish = await Sandbox.RunAsync("worker", "--until-idle", "--concurrency", "4");
        Assert.True(finish.ExitCode == 0, finish.ToString());
        for (var index = 0; index < count; index++)
        {
            var id = $"load-{index:D2}";
            var workflow = await Store.GetRequiredWorkflowAsync(id);
            Assert.True(workflow.Status == WorkflowStatus.Completed, $"{id} is {workflow.Status} at {workflow.CurrentNode}.\n{finish}");
            Assert.Equal(["one", "two", "three"], (await Store.GetStepsAsync(id)).Where(s => s.Outcome == StepOutcome.Completed).Select(s => s.Node));
        }

        var lines = Effects();
        AssertNoOverlap(lines);
        foreach (var node in (string[])["one", "two", "three"])
        {
            Assert.Equal(count, lines.Where(l => l.Node == node && l.Kind == "end").Select(l => l.Workflow).Distinct().Count());
        }
    }

    [StoreFact]
    public async Task TwoWorkersOnTwoHosts_OneKilledMidNode_TheOtherWaitsForItsLeaseAndRunsEachNodeOnce()
    {
        if (Environment.UserName != "root" || !File.Exists("/usr/bin/unshare"))
        {
            throw Ratchet.Conformance.TestEnvironment.Unavailable("A worker 'on another host' runs in a UTS namespace of its own, which needs root and util-linux's unshare.");
        }

        await OpenAsync();
        const int count = 4;
        await Sandbox.StartDetachedAsync("flow.yaml", Enumerable.Range(0, count).Select(i => $"hosts-{i}"));

        using var remote = Sandbox.Start(["worker", "--concurrency", "2", "--lease", "3s"], hostName: "other-host");
        Assert.True(await Eventually.TrueAsync(async () => (await HeldByAsync("other-host:", count)).Count >= 1 && Effects().Any(l => l.Kind == "start"), seconds: 60),
            $"the worker on other-host never ran a node.\n{remote.Stderr}");
        using var local = Sandbox.Start(["worker", "--concurrency", "4", "--lease", "3s"]);
        await remote.KillAsync();
        var heldWhenKilled = await HeldByAsync("other-host:", count);
        Release();

        // This machine cannot see whether other-host's worker lives: its workflows wait for its lease to lapse.
        var done = await Eventually.TrueAsync(async () =>
        {
            for (var index = 0; index < count; index++)
            {
                if ((await Store.GetRequiredWorkflowAsync($"hosts-{index}")).Status != WorkflowStatus.Completed)
                {
                    return false;
                }
            }

            return true;
        }, seconds: 90);
        await local.SignalAsync("INT");
        var localResult = await local.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.True(done, $"not every workflow completed.\n{localResult}");
        Assert.NotEmpty(heldWhenKilled);
        foreach (var id in heldWhenKilled)
        {
            var recovered = Assert.Single(await Store.GetEventsAsync(id), e => e.Type == AuditEventTypes.Recovered);
            Assert.Equal(2, recovered.Attempt);
        }

        var lines = Effects();
        AssertNoOverlap(lines);
        foreach (var node in (string[])["build", "after"])
        {
            for (var index = 0; index < count; index++)
            {
                Assert.Single(lines, l => l.Workflow == $"hosts-{index}" && l.Node == node && l.Kind == "end");
            }
        }
    }

    private async Task<List<string>> HeldByAsync(string ownerMark, int count)
    {
        var held = new List<string>();
        for (var index = 0; index < count; index++)
        {
            var workflow = await Store.GetRequiredWorkflowAsync($"hosts-{index}");
            if (workflow is { Status: WorkflowStatus.Running, Attempt: > 0 } && workflow.LeaseOwner?.StartsWith(ownerMark, StringComparison.Ordinal) == true)
            {
                held.Add(workflow.Id);
            }
        }

        return held;
    }

    /// <summary>Opens the store and writes the workflow and the side-effect script.</summary>
    protected async Task OpenAsync()
    {
        var (uri, store) = await CreateStoreAsync();
        _store = store;
        _sandbox = new CliSandbox(uri);
        _sandbox.Write("flow.yaml", Flow);

        // start/end lines: kind workflow node attempt pid time others-alive. A start line also says whether any
        // earlier attempt's command of the same node still ran at that moment (by the pids those lines recorded).
        _sandbox.Script("effect.sh", """
            node="$1"; seconds="$2"; log=effects.txt; pids="pids-$RATCHET_WORKFLOW_ID-$node"
            alive=no
            if [ -f "$pids" ]; then
              for pid in $(cat "$pids"); do
                if [ "$pid" != "$$" ] && kill -0 "$pid" 2>/dev/null; then alive=yes; fi
              done
            fi
            echo $$ >> "$pids"
            echo "start $RATCHET_WORKFLOW_ID $node $RATCHET_ATTEMPT $$ $(date +%s.%N) $alive" >> "$log"
            if [ "$seconds" = hold ]; then
              i=0; while [ ! -e release ] && [ "$i" -lt 1200 ]; do sleep 0.1; i=$((i+1)); done
            else
              sleep "$seconds"
            fi
            echo "end $RATCHET_WORKFLOW_ID $node $RATCHET_ATTEMPT $$ $(date +%s.%N) -" >> "$log"
            """);
    }

    /// <summary>Lets every held node end.</summary>
    private void Release() => Sandbox.Write("release", "");

    /// <summary>Waits until a second process says it only follows the running workflow.</summary>
    private static async Task WaitForFollowingAsync(CliSandbox.CliProcess process) =>
        Assert.True(await Eventually.TrueAsync(() => process.Stderr.Contains("is running in pid", StringComparison.Ordinal) || process.HasExited, seconds: 60),
            $"the second process never said it follows the running workflow.\n{process.Stderr}");

    private sealed record Effect(string Kind, string Workflow, string Node, int Attempt, int Pid, double Time, bool OthersAlive);

    private IReadOnlyList<Effect> Effects() =>
        Sandbox.ReadLines("effects.txt").Select(line => line.Split(' ')).Where(f => f.Length == 7).Select(f => new Effect(
            f[0], f[1], f[2], int.Parse(f[3], CultureInfo.InvariantCulture), int.Parse(f[4], CultureInfo.InvariantCulture),
            double.Parse(f[5], CultureInfo.InvariantCulture), f[6] == "yes")).ToList();

    private async Task<Effect> WaitForStartAsync(string node, CliSandbox.CliProcess process)
    {
        Effect? started = null;
        Assert.True(await Eventually.TrueAsync(() => (started = Effects().FirstOrDefault(l => l.Node == node && l.Kind == "start")) is not null, seconds: 60),
            $"node {node} never started.\n{process.Stderr}");
        return started!;
    }

    /// <summary>Each named node ended exactly once, and no two runs of a node overlapped.</summary>
    private void AssertEachNodeOnce(IReadOnlyList<string> nodes)
    {
        var lines = Effects();
        foreach (var node in nodes)
        {
            Assert.True(lines.Count(l => l.Node == node && l.Kind == "start") == 1, $"{node} started {lines.Count(l => l.Node == node && l.Kind == "start")} times:\n{string.Join('\n', Sandbox.ReadLines("effects.txt"))}");
            Assert.Single(lines, l => l.Node == node && l.Kind == "end");
        }

        AssertNoOverlap(lines);
    }

    /// <summary>No run of a node started while another run of the same node of the same workflow was still going.</summary>
    private void AssertNoOverlap(IReadOnlyList<Effect> lines)
    {
        foreach (var runs in lines.GroupBy(l => (l.Workflow, l.Node)))
        {
            Assert.DoesNotContain(runs, l => l is { Kind: "start", OthersAlive: true });
            var intervals = runs.GroupBy(l => l.Pid).Select(p => (Start: p.First(l => l.Kind == "start").Time,
                End: p.FirstOrDefault(l => l.Kind == "end")?.Time)).OrderBy(i => i.Start).ToList();
            for (var index = 1; index < intervals.Count; index++)
            {
                var previous = intervals[index - 1];
                Assert.True(previous.End is null || previous.End <= intervals[index].Start,
                    $"two runs of {runs.Key.Node} of {runs.Key.Workflow} overlapped:\n{string.Join('\n', Sandbox.ReadLines("effects.txt"))}");
            }
        }
    }

    private static bool IsRunning(int pid)
    {
        var status = $"/proc/{pid}/status";
        return File.Exists(status) && !File.ReadAllText(status).Contains("State:\tZ", StringComparison.Ordinal);
    }

    /// <summary>Whatever a failed test left behind: every process started from the sandbox's effect script.</summary>
    private void KillLeftovers()
    {
        foreach (var file in Directory.GetFiles(Sandbox.Path, "pids-*"))
        {
            foreach (var line in File.ReadAllLines(file))
            {
                if (int.TryParse(line, CultureInfo.InvariantCulture, out var pid) && IsRunning(pid))
                {
                    try
                    {
                        using var process = Process.GetProcessById(pid);
                        process.Kill(entireProcessTree: true);
                    }
                    catch (ArgumentException)
                    {
                        // Gone meanwhile.
                    }
                }
            }
        }
    }
}

/// <summary>The scenarios on one SQLite file shared by several processes.</summary>
public sealed class SqliteOneLiveAttemptTests : OneLiveAttemptTests
{
    protected override Task<(string Uri, IRatchetStore Store)> CreateStoreAsync() => SharedSqlite.CreateAsync("ratchet-once-");

    protected override Task DropStoreAsync(string uri) => SharedSqlite.DropAsync(uri);
}

/// <summary>The scenarios on PostgreSQL.</summary>
public sealed class PostgresOneLiveAttemptTests : OneLiveAttemptTests
{
    protected override Task<(string Uri, IRatchetStore Store)> CreateStoreAsync() => Ratchet.TestServers.ServerStores.PostgresAsync();

    protected override Task DropStoreAsync(string uri) => Ratchet.TestServers.ServerStores.DropPostgresAsync(uri);
}

/// <summary>The scenarios on Redis.</summary>
public sealed class RedisOneLiveAttemptTests : OneLiveAttemptTests
{
    protected override Task<(string Uri, IRatchetStore Store)> CreateStoreAsync() => Ratchet.TestServers.ServerStores.RedisAsync();

    protected override Task DropStoreAsync(string uri) => Ratchet.TestServers.ServerStores.DropRedisAsync(uri);
}
