using System.Diagnostics;
using System.Globalization;
using Ratchet.Sqlite;
using Xunit.Abstractions;

namespace Ratchet.Engine.Tests;

/// <summary>
/// Issue 3's crash test: a real child process (Ratchet.Engine.TestHost, built beside this assembly) runs workflows, is
/// killed with SIGKILL while each of them is in the middle of a node (a different node per workflow, first to last),
/// and a second process finishes them. Nothing finished is lost or redone; each interrupted node runs again, once, as
/// the next attempt.
/// </summary>
public sealed class CrashTests(ITestOutputHelper output) : IDisposable
{
    private const int Workflows = 8;
    private const int NodesPerWorkflow = 5;

    private readonly Scratch _scratch = new();

    public void Dispose() => _scratch.Dispose();

    [Fact]
    public async Task KilledProcess_Restarted_FinishesEveryWorkflowWithEachNodeCommittedOnce()
    {
        using var timeout = Within.Seconds(30);
        var database = _scratch.Database;
        var sideEffects = _scratch.File("side-effects.txt");
        var ids = Enumerable.Range(1, Workflows).Select(i => $"wf-{i:000}").ToArray();
        // The host hangs workflow i at node N((i - 1) % 5 + 1) on its first attempt, after the side effect.
        var hangNode = ids.ToDictionary(id => id, id => $"N{((int.Parse(id[3..], CultureInfo.InvariantCulture) - 1) % NodesPerWorkflow) + 1}");

        // First process: start the workflows, wait until every one is inside its hanging node, kill it.
        using (var first = StartHost(database, sideEffects, "start", Workflows.ToString(CultureInfo.InvariantCulture)))
        using (KillOnExit(first))
        {
            var said = await first.StandardOutput.ReadLineAsync(timeout.Token);
            Assert.True(said == "started", $"The host said '{said}' instead of 'started'. {await StderrIfExitedAsync(first)}");
            while (!ids.All(id => ReadLines(sideEffects).Contains((id, hangNode[id], 1))))
            {
                Assert.False(first.HasExited, $"The host ended before it was killed. {await StderrIfExitedAsync(first)}");
                // Polling a file another process writes: no engine wait API reaches across processes.
                await Task.Delay(TimeSpan.FromMilliseconds(20), timeout.Token);
            }

            first.Kill();
            await first.WaitForExitAsync(timeout.Token);
            Assert.Equal(137, first.ExitCode); // 128 + SIGKILL
        }

        await using (var killed = await SqliteRatchetStore.OpenAsync(new SqliteStoreOptions { Path = database }))
        {
            // What the dead process left: every workflow Running at its hanging node, attempt 1, the nodes before it committed.
            foreach (var id in ids)
            {
                var workflow = await killed.GetRequiredWorkflowAsync(id, timeout.Token);
                Assert.Equal((WorkflowStatus.Running, hangNode[id], 1), (workflow.Status, workflow.CurrentNode, workflow.Attempt));
                Assert.Equal(NodeNumber(hangNode[id]) - 1, (await killed.GetStepsAsync(id, timeout.Token)).Count);
            }
        }

        // Second process: resume whatever the store holds.
        using (var second = StartHost(database, sideEffects, "resume"))
        using (KillOnExit(second))
        {
            var said = await second.StandardOutput.ReadToEndAsync(timeout.Token);
            await second.WaitForExitAsync(timeout.Token);
            Assert.True(second.ExitCode == 0, $"The resuming host exited {second.ExitCode}: {said} {await StderrIfExitedAsync(second)}");
            Assert.Equal($"done {Workflows} {Workflows}", said.Trim());
        }

        var lines = ReadLines(sideEffects);
        await using var store = await SqliteRatchetStore.OpenAsync(new SqliteStoreOptions { Path = database });
        Assert.Equal(Workflows, (await store.ListWorkflowsAsync(new WorkflowQuery { Limit = WorkflowQuery.MaxLimit }, timeout.Token)).Items.Count);
        foreach (var id in ids)
        {
            var workflow = await store.GetRequiredWorkflowAsync(id, timeout.Token);
            Assert.Equal(WorkflowStatus.Completed, workflow.Status);
            var steps = await store.GetStepsAsync(id, timeout.Token);
            // Exactly one committed result per node, in order: none lost, none recorded twice.
            Assert.Equal(Enumerable.Range(1, NodesPerWorkflow).Select(i => $"N{i}"), steps.Select(s => s.Node));
            Assert.All(steps, s => Assert.Equal(StepOutcome.Completed, s.Outcome));

            foreach (var step in steps)
            {
                var runs = lines.Where(l => l.WorkflowId == id && l.Node == step.Node).Select(l => l.Attempt).ToArray();
                // Each node ran once, except the interrupted one: twice, the second time as attempt 2, whose result counts.
                Assert.Equal(step.Node == hangNode[id] ? [1, 2] : [1], runs);
                Assert.Equal(runs[^1], step.Attempt);
            }

            var recovered = Assert.Single(await store.GetEventsAsync(id, cancellationToken: timeout.Token), e => e.Type == AuditEventTypes.Recovered);
            Assert.Equal((hangNode[id], 2), (recovered.Node, recovered.Attempt));
        }

        output.WriteLine($"{lines.Count} side effects for {Workflows * NodesPerWorkflow} nodes.");
        Assert.Equal((Workflows * NodesPerWorkflow) + Workflows, lines.Count);
    }

    private static int NodeNumber(string node) => int.Parse(node[1..], CultureInfo.InvariantCulture);

    /// <summary>
    /// The child's stderr once it has exited. Not read while it runs: a pending pipe read holds a thread-pool thread,
    /// and on two cores that starves the test's own timers (a 20 ms delay took a second).
    /// </summary>
    private static async Task<string> StderrIfExitedAsync(Process process) =>
        process.HasExited ? await process.StandardError.ReadToEndAsync() : "";

    private static List<(string WorkflowId, string Node, int Attempt)> ReadLines(string path)
    {
        if (!File.Exists(path))
        {
            return [];
        }

        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        using var reader = new StreamReader(stream);
        var text = reader.ReadToEnd();
        // A line cut short by the kill has no newline yet; that run never committed and is run again.
        var complete = text[..(text.LastIndexOf('\n') + 1)];
        return [.. complete.Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(line => line.Split(' '))
            .Select(parts => (parts[0], parts[1], int.Parse(parts[2], CultureInfo.InvariantCulture)))];
    }

    /// <summary>Kills the process when the test leaves early (a failed assertion), so no child outlives the test.</summary>
    private static ProcessGuard KillOnExit(Process process) => new(process);

    private static Process StartHost(string database, string sideEffects, params string[] mode)
    {
        var hostDll = Path.Combine(AppContext.BaseDirectory, "Ratchet.Engine.TestHost.dll");
        Assert.True(File.Exists(hostDll), $"The test host is missing at '{hostDll}'; build Ratchet.Engine.Tests, which references it.");
        var start = new ProcessStartInfo(DotnetHost())
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(hostDll);
        start.ArgumentList.Add(database);
        start.ArgumentList.Add(sideEffects);
        foreach (var argument in mode)
        {
            start.ArgumentList.Add(argument);
        }

        return Process.Start(start) ?? throw new InvalidOperationException("The test host did not start.");
    }

    /// <summary>The dotnet host running these tests, so that the child runs on the same runtime.</summary>
    private static string DotnetHost()
    {
        var current = Environment.ProcessPath;
        return current is not null && Path.GetFileNameWithoutExtension(current).Equals("dotnet", StringComparison.OrdinalIgnoreCase)
            ? current
            : "dotnet";
    }

    private sealed class ProcessGuard(Process process) : IDisposable
    {
        public void Dispose()
        {
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
            }
        }
    }
}
