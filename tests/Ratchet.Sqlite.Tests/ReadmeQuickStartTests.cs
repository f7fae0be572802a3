using System.Text.Json;
using Ratchet;
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
    public async Task QuickStart_ReadmeBlock_IsTheCodeThisClassRuns()
    {
        var root = RepositoryRoot();
        var readme = await File.ReadAllTextAsync(Path.Combine(root, "README.md"));
        var source = await File.ReadAllTextAsync(Path.Combine(root, "tests", "Ratchet.Sqlite.Tests", "ReadmeQuickStartTests.cs"));

        var block = Between(readme, "```csharp\n", "```");
        var tested = Between(source, "        // README:begin\n", "        // README:end")
            .Replace("Path = databasePath", $"Path = \"{ReadmePath}\"", StringComparison.Ordinal);
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
