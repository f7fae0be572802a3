using System.Text.Json;
using Ratchet;
using Ratchet.Engine;
using Ratchet.Serialization;
using Ratchet.Sqlite;
using Ratchet.Storage;

namespace Ratchet.Sqlite.Tests;

/// <summary>
/// The README's C# quick start, compiled and run. The code between the README markers below must equal the README's
/// C# block (after its using lines), except that the store lives in a temporary folder here: the second test checks it.
/// </summary>
public sealed class ReadmeQuickStartTests : IDisposable
{
    private const string ReadmePath = ".ratchet/ratchet.db";

    private readonly ScratchDirectory _scratch = new();

    public void Dispose() => _scratch.Dispose();

    [Fact]
    public async Task EngineQuickStart_AsInTheReadme_CompletesTheWorkflow()
    {
        var databasePath = _scratch.File(ReadmePath);

        // README-engine:begin
        var definition = new WorkflowBuilder("issue-implementation")
            .Node("analyze", (context, ct) => Task.FromResult(NodeResult.Success(new { files = new[] { "src/parser.c" } }))).Then("plan")
            .Node("plan", (context, ct) => Task.FromResult(NodeResult.Success(new { branch = $"fix/issue-{context.Input?.GetProperty("issue")}" }))).Then("implement")
            .Node("implement", async (context, ct) =>
            {
                // A crash or a failure runs a node again: make its side effects idempotent with context.IdempotencyKey.
                await context.ReportProgressAsync($"editing on {context.Get<JsonElement>("plan").GetProperty("branch")}", ct);
                return NodeResult.Success();
            }).WithRetry(new RetryPolicy { MaxAttempts = 3 })
            .Build();

        await using var engine = await new RatchetBuilder().UseSqlite(databasePath).AddWorkflow(definition).BuildAsync();
        await engine.CreateRunner().StartAsync();
        var workflow = await engine.StartAsync("issue-implementation", new { issue = 42 }, new StartOptions { Id = "issue-42" });
        var done = await engine.WaitForCompletionAsync(workflow.Id);
        Console.WriteLine($"{done.Id}: {done.Status}, plan {done.Artifacts["plan"]}");
        // README-engine:end

        Assert.Equal(("issue-42", WorkflowStatus.Completed), (done.Id, done.Status));
        Assert.Equal("fix/issue-42", done.Artifacts["plan"].GetProperty("branch").GetString());
        var events = await engine.Store.GetEventsAsync(done.Id);
        Assert.Contains(events, e => e.Type == "progress" && e.Node == "implement");
        Assert.Equal(["analyze", "plan", "implement"], (await engine.Store.GetStepsAsync(done.Id)).Select(s => s.Node));
    }

    [Fact]
    public async Task EngineQuickStart_ReadmeBlock_IsTheCodeThisClassRuns() =>
        await AssertReadmeBlockAsync(blockIndex: 0, "README-engine", "UseSqlite(databasePath)", $"UseSqlite(\"{ReadmePath}\")");

    [Fact]
    public async Task QuickStart_AsInTheReadme_StoresWhatItSays()
    {
        var databasePath = _scratch.File(ReadmePath);

        // README:begin
        await using var store = await SqliteRatchetStore.OpenAsync(new SqliteStoreOptions { Path = databasePath });

        // Start a workflow (with a "created" audit event). Pass an Id to make the start idempotent.
        var (workflow, _) = await new WorkflowCreator(store).CreateAsync(
            new NewWorkflow { Type = "issue-implementation", Input = RatchetJson.Parse("""{"issue": 42}""") });

        // A node finished: its output, the next state and the audit event commit together or not at all,
        // and only if nobody changed the workflow since we read it (optimistic version).
        var now = TimeProvider.System.GetStoreNow();
        var planned = workflow.TransitionTo(WorkflowStatus.Running, now) with
        {
            CurrentNode = "implement",
            Artifacts = new Dictionary<string, JsonElement> { ["plan"] = RatchetJson.Parse("""["edit src/a.cs"]""") },
        };
        await store.CommitAsync(new ChangeSet()
            .UpdateWorkflow(planned)
            .AppendEvent(new AuditEvent { WorkflowId = workflow.Id, Type = AuditEventTypes.NodeCompleted, Node = "plan", At = now }));

        // Key-value state: save, load, checkpoint, and an optimistic read-modify-write that retries on conflict.
        await store.SaveValueAsync(workflow.Id, "branch", RatchetJson.Parse("\"fix/issue-42\""));
        var branch = await store.GetValueAsync(workflow.Id, "branch");
        await store.CreateCheckpointAsync(workflow.Id, "after-plan");
        await store.TransactionAsync(async (tx, ct) =>
        {
            var runs = await tx.GetValueAsync(workflow.Id, "runs", ct);
            tx.SaveValue(workflow.Id, "runs", RatchetJson.ToElement((runs?.Value.GetInt32() ?? 0) + 1));
        });
        // README:end

        Assert.Equal("fix/issue-42", branch!.Value.GetString());
        var stored = await store.GetRequiredWorkflowAsync(workflow.Id);
        Assert.Equal((WorkflowStatus.Running, "implement", 2L), (stored.Status, stored.CurrentNode, stored.Version));
        Assert.Equal("edit src/a.cs", stored.Artifacts["plan"][0].GetString());
        Assert.Equal([AuditEventTypes.Created, AuditEventTypes.NodeCompleted], (await store.GetEventsAsync(workflow.Id)).Select(e => e.Type));
        Assert.Equal(1, (await store.GetValueAsync(workflow.Id, "runs"))!.Value.GetInt32());
        var checkpoint = Assert.Single(await store.ListCheckpointsAsync(workflow.Id));
        Assert.Equal(("after-plan", 1), (checkpoint.Name, checkpoint.EntryCount));
        Assert.True(File.Exists(databasePath));
    }

    [Fact]
    public async Task QuickStart_ReadmeBlock_IsTheCodeThisClassRuns() =>
        await AssertReadmeBlockAsync(blockIndex: 1, "README", "Path = databasePath", $"Path = \"{ReadmePath}\"");

    /// <summary>The README's n-th C# block (after its using lines) equals the code between the markers, with the path replaced.</summary>
    private static async Task AssertReadmeBlockAsync(int blockIndex, string marker, string testPath, string readmePath)
    {
        var root = RepositoryRoot();
        var readme = (await File.ReadAllTextAsync(Path.Combine(root, "README.md"))).Replace("\r\n", "\n", StringComparison.Ordinal);
        var source = await File.ReadAllTextAsync(Path.Combine(root, "tests", "Ratchet.Sqlite.Tests", "ReadmeQuickStartTests.cs"));

        var at = 0;
        for (var i = 0; i < blockIndex; i++)
        {
            at = readme.IndexOf("```csharp\n", at, StringComparison.Ordinal) + 1;
            Assert.True(at > 0, $"The README has fewer than {blockIndex + 1} C# blocks.");
        }

        var block = Between(readme[at..], "```csharp\n", "```");
        var tested = Between(source, $"        // {marker}:begin\n", $"        // {marker}:end")
            .Replace(testPath, readmePath, StringComparison.Ordinal);
        tested = string.Join('\n', tested.Split('\n').Select(line => line.Length >= 8 ? line[8..] : line.TrimStart()));

        var usings = block.Split('\n').TakeWhile(line => line.StartsWith("using ", StringComparison.Ordinal)).ToArray();
        Assert.NotEmpty(usings);
        Assert.All(usings, line => Assert.Contains(line + "\n", source, StringComparison.Ordinal));
        Assert.Equal(tested.Trim(), block[string.Join('\n', usings).Length..].Trim());
    }

    private static string Between(string text, string start, string end)
    {
        text = text.Replace("\r\n", "\n", StringComparison.Ordinal);
        var from = text.IndexOf(start, StringComparison.Ordinal);
        Assert.True(from >= 0, $"'{start.Trim()}' not found.");
        from += start.Length;
        var to = text.IndexOf(end, from, StringComparison.Ordinal);
        Assert.True(to >= 0, $"'{end.Trim()}' not found after '{start.Trim()}'.");
        return text[from..to];
    }

    private static string RepositoryRoot()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "Ratchet.slnx")))
            {
                return directory.FullName;
            }
        }

        throw new InvalidOperationException($"No Ratchet.slnx above '{AppContext.BaseDirectory}': run the tests from a clone of the repository.");
    }
}
