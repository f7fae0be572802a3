using System.Globalization;
using System.Text;
using Ratchet;
using Ratchet.Engine;
using Ratchet.Sqlite;
using Ratchet.Storage;

// The child process of the engine's crash test. Usage:
//   Ratchet.Engine.TestHost <db-path> <side-effect-file> start <count>   starts <count> workflows (ids wf-001...) and runs them
//   Ratchet.Engine.TestHost <db-path> <side-effect-file> resume          runs whatever the store holds until every workflow ended
// Every node of the "crash-test" workflow (N1..N5) appends "{workflowId} {node} {attempt}\n" to the side-effect file
// (flushed and fsynced), then sleeps 200 ms and returns. In start mode, workflow i's attempt 1 of node N{((i - 1) % 5) + 1}
// hangs after its side effect instead, so the test can kill the process while every workflow is mid-node, at a
// different node each (first to last), whatever the machine's load: a side effect done, its result never committed.
// Leases last 2 s, so a second process takes a killed one's workflows over soon.
// stdout, one line each: "started" once every workflow exists (start), "done <completed> <total>" at the end.
// Exit codes: 0 every workflow completed, 1 some did not, 2 bad arguments.
if (args.Length < 3 || args[2] is not ("start" or "resume") || (args[2] == "start" && (args.Length < 4 || !int.TryParse(args[3], out _))))
{
    await Console.Error.WriteLineAsync("usage: Ratchet.Engine.TestHost <db-path> <side-effect-file> start <count> | resume");
    return 2;
}

var databasePath = args[0];
var sideEffects = new SideEffectFile(args[1]);

var builder = new WorkflowBuilder(CrashTestWorkflow.Type);
for (var i = 1; i <= CrashTestWorkflow.NodeCount; i++)
{
    builder.Node($"N{i}", async (context, cancellationToken) =>
    {
        await sideEffects.AppendAsync($"{context.WorkflowId} {context.Node} {context.Attempt.ToString(CultureInfo.InvariantCulture)}");
        var hang = args[2] == "start" && context.Attempt == 1 && context.Node == CrashTestWorkflow.HangNode(context.WorkflowId);
        await Task.Delay(hang ? Timeout.InfiniteTimeSpan : TimeSpan.FromMilliseconds(200), cancellationToken);
        return NodeResult.Success(new { node = context.Node, attempt = context.Attempt });
    });
    if (i < CrashTestWorkflow.NodeCount)
    {
        builder.Then($"N{i + 1}");
    }
}

await using var engine = await new RatchetBuilder()
    .UseSqlite(databasePath)
    .AddWorkflow(builder.Build())
    .Configure(o =>
    {
        o.LeaseDuration = TimeSpan.FromSeconds(2);
        o.PollInterval = TimeSpan.FromMilliseconds(100);
    })
    .BuildAsync();

using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(25));
if (args[2] == "start")
{
    var count = int.Parse(args[3], CultureInfo.InvariantCulture);
    await using var runner = engine.CreateRunner();
    await runner.StartAsync(deadline.Token);
    var ids = new List<string>();
    for (var i = 1; i <= count; i++)
    {
        var workflow = await engine.StartAsync(CrashTestWorkflow.Type, options: new StartOptions { Id = $"wf-{i:000}" }, cancellationToken: deadline.Token);
        ids.Add(workflow.Id);
    }

    Console.WriteLine("started");
    foreach (var id in ids)
    {
        await engine.WaitForCompletionAsync(id, deadline.Token);
    }

    await runner.StopAsync(deadline.Token);
}
else
{
    // A dead process's workflows stay leased until their leases lapse; a runner that finds only those is idle at once.
    // Run again until nothing active is left.
    while (await ActiveCountAsync(engine.Store, deadline.Token) > 0)
    {
        await using var runner = engine.CreateRunner();
        await runner.RunUntilIdleAsync(deadline.Token);
        if (await ActiveCountAsync(engine.Store, deadline.Token) > 0)
        {
            await Task.Delay(TimeSpan.FromMilliseconds(200), deadline.Token);
        }
    }
}

var all = await engine.Store.ListWorkflowsAsync(new WorkflowQuery { Limit = WorkflowQuery.MaxLimit }, deadline.Token);
var completed = all.Items.Count(w => w.Status == WorkflowStatus.Completed);
Console.WriteLine($"done {completed.ToString(CultureInfo.InvariantCulture)} {all.Items.Count.ToString(CultureInfo.InvariantCulture)}");
return completed == all.Items.Count ? 0 : 1;

static async Task<int> ActiveCountAsync(IRatchetStore store, CancellationToken cancellationToken) =>
    (await store.ListWorkflowsAsync(WorkflowQuery.Active with { Limit = WorkflowQuery.MaxLimit }, cancellationToken)).Items.Count;

/// <summary>The crash test's workflow.</summary>
internal static class CrashTestWorkflow
{
    public const string Type = "crash-test";

    public const int NodeCount = 5;

    /// <summary>The node where workflow <c>wf-NNN</c> hangs in start mode: N1 for wf-001, N2 for wf-002, ... N1 again for wf-006.</summary>
    public static string HangNode(string workflowId) =>
        $"N{((int.Parse(workflowId.AsSpan(3), CultureInfo.InvariantCulture) - 1) % NodeCount) + 1}";
}

/// <summary>An append-only file of side effects: each line written whole, flushed and fsynced before the node goes on.</summary>
internal sealed class SideEffectFile(string path)
{
    private readonly SemaphoreSlim _gate = new(1, 1);

    public async Task AppendAsync(string line)
    {
        await _gate.WaitAsync();
        try
        {
            await using var stream = new FileStream(path, FileMode.Append, FileAccess.Write, FileShare.ReadWrite);
            await stream.WriteAsync(Encoding.UTF8.GetBytes(line + "\n"));
            stream.Flush(flushToDisk: true);
        }
        finally
        {
            _gate.Release();
        }
    }
}
