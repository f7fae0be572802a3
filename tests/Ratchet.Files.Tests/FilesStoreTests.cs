using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Time.Testing;
using Ratchet.Conformance;
using Ratchet.Serialization;
using Ratchet.Storage;

namespace Ratchet.Files.Tests;

/// <summary>What only the file store promises: its layout, atomic commits, recovery, locking and backups.</summary>
public sealed class FilesStoreTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("ratchet-files-").FullName;
    private readonly FakeTimeProvider _clock = new(TestClock.Start);

    public void Dispose()
    {
        if (Directory.Exists(_root))
        {
            Directory.Delete(_root, recursive: true);
        }
    }

    private string StorePath(params string[] parts) => Path.Combine([_root, "store", .. parts]);

    private Task<FilesRatchetStore> OpenAsync(TimeSpan? lockTimeout = null) =>
        FilesRatchetStore.OpenAsync(new FilesStoreOptions
        {
            Root = StorePath(),
            TimeProvider = _clock,
            LockTimeout = lockTimeout ?? TimeSpan.FromSeconds(10),
        });

    private WorkflowRecord NewWorkflow(string id) => new()
    {
        Id = id,
        Type = "demo",
        CreatedAt = _clock.GetUtcNow(),
        UpdatedAt = _clock.GetUtcNow(),
    };

    [Fact]
    public async Task CommitAsync_NewWorkflow_WritesReadableLayout()
    {
        await using var store = await OpenAsync();
        await store.CommitAsync(new ChangeSet()
            .CreateWorkflow(NewWorkflow("wf-1"))
            .AppendEvent(new AuditEvent { WorkflowId = "wf-1", Type = "created", At = _clock.GetUtcNow() })
            .SaveValue("Team.Settings", "a%b", RatchetJson.Parse("1")));

        Assert.True(File.Exists(StorePath("format.json")));
        var state = JsonDocument.Parse(await File.ReadAllTextAsync(StorePath("workflows", "wf-1", "state.json")));
        Assert.Equal("wf-1", state.RootElement.GetProperty("id").GetString());
        Assert.Equal(1, state.RootElement.GetProperty("version").GetInt64());
        var lines = await File.ReadAllLinesAsync(StorePath("workflows", "wf-1", "events.jsonl"));
        Assert.Single(lines);
        Assert.True(File.Exists(StorePath("kv", "^team%2E^settings", "values", "a%25b.json")));
        Assert.False(Directory.Exists(StorePath("journal")) && Directory.EnumerateFiles(StorePath("journal")).Any());
    }

    [Fact]
    public async Task KeyValue_NamesWithAwkwardCharacters_RoundTripAndStayApart()
    {
        string[] keys = ["a", "A", ".", "..", "%41", "^a", "con", "CON", "nul", "com1", "名前 😀", "x:y*?<>|\"", new string('k', 256), new string('k', 255) + "l"];
        await using (var store = await OpenAsync())
        {
            var changes = new ChangeSet();
            for (var i = 0; i < keys.Length; i++)
            {
                changes.SaveValue("ns.É", keys[i], RatchetJson.Parse(i.ToString(System.Globalization.CultureInfo.InvariantCulture)));
            }

            await store.CommitAsync(changes);
            await store.CreateCheckpointAsync("ns.É", "..");
        }

        await using var reopened = await OpenAsync();
        var values = await reopened.ListValuesAsync("ns.É");
        Assert.Equal(keys.Order(StringComparer.Ordinal), values.Select(v => v.Key));
        for (var i = 0; i < keys.Length; i++)
        {
            Assert.Equal(i, (await reopened.GetValueAsync("ns.É", keys[i]))!.Value.GetInt32());
        }

        Assert.Equal(["ns.É"], await reopened.ListNamespacesAsync());
        Assert.Equal(keys.Length, Assert.Single(await reopened.ListCheckpointsAsync("ns.É")).EntryCount);
    }

    [Fact]
    public async Task Read_CorruptStateWithoutGoodCopy_ThrowsStoreCorruptNamingTheFileAndListingLeavesItOut()
    {
        await using var store = await OpenAsync();
        await store.CommitAsync(new ChangeSet().CreateWorkflow(NewWorkflow("wf-1")));
        var state = StorePath("workflows", "wf-1", "state.json");
        Assert.False(File.Exists(state + ".bak"));
        await File.WriteAllTextAsync(state, "{\"id\": \"wf-1\", \"type\": ");
        var before = await File.ReadAllBytesAsync(state);

        var error = await Assert.ThrowsAsync<StoreCorruptException>(() => store.GetWorkflowAsync("wf-1"));
        Assert.Contains(state, error.Message, StringComparison.Ordinal);
        Assert.NotNull(error.InnerException);

        Assert.Empty((await store.ListWorkflowsAsync(new WorkflowQuery())).Items);
        Assert.Equal(before, await File.ReadAllBytesAsync(state));
    }

    [Fact]
    public async Task Read_CorruptStateAndCorruptCopy_ThrowsStoreCorruptNamingBoth()
    {
        await using var store = await OpenAsync();
        await store.CommitAsync(new ChangeSet().CreateWorkflow(NewWorkflow("wf-1")));
        var state = StorePath("workflows", "wf-1", "state.json");
        await File.WriteAllTextAsync(state, "garbage");
        await File.WriteAllTextAsync(state + ".bak", "more garbage");

        var error = await Assert.ThrowsAsync<StoreCorruptException>(() => store.GetWorkflowAsync("wf-1"));
        Assert.Contains(state, error.Message, StringComparison.Ordinal);
        Assert.Contains(state + ".bak", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task OpenAsync_LeftoverIntent_IsAppliedWholeBeforeAnyRead()
    {
        // A "crash" after the intent was made durable and before any file was replaced: write the intent by hand.
        await using (var store = await OpenAsync())
        {
            await store.CommitAsync(new ChangeSet().CreateWorkflow(NewWorkflow("wf-1")));
        }

        var v1 = JsonSerializer.Deserialize(await File.ReadAllBytesAsync(StorePath("workflows", "wf-1", "state.json")), RatchetJsonContext.Default.WorkflowRecord)!;
        var v2 = v1 with { Version = 2, CurrentNode = "after-crash" };
        var step = new StepRecord { WorkflowId = "wf-1", Sequence = 1, Node = "after-crash", StartedAt = _clock.GetUtcNow(), FinishedAt = _clock.GetUtcNow() };
        var entry = new KeyValueEntry { Namespace = "ns", Key = "k", Value = RatchetJson.Parse("\"v\""), Version = 1, UpdatedAt = _clock.GetUtcNow() };
        var intent = new
        {
            operations = new object[]
            {
                new { path = "workflows/wf-1/state.json", data = JsonSerializer.SerializeToUtf8Bytes(v2, RatchetJsonContext.Default.WorkflowRecord) },
                new { path = "workflows/wf-1/steps.jsonl", data = Encoding.UTF8.GetBytes(JsonSerializer.Serialize(step, RatchetJsonContext.Default.StepRecord) + "\n") },
                new { path = "kv/ns/values/k.json", data = JsonSerializer.SerializeToUtf8Bytes(entry, RatchetJsonContext.Default.KeyValueEntry) },
            },
        };
        Directory.CreateDirectory(StorePath("journal"));
        await File.WriteAllTextAsync(StorePath("journal", "intent.json"), JsonSerializer.Serialize(intent));

        await using var reopened = await OpenAsync();
        Assert.False(File.Exists(StorePath("journal", "intent.json")));
        var workflow = await reopened.GetWorkflowAsync("wf-1");
        Assert.Equal(2, workflow!.Version);
        Assert.Equal("after-crash", workflow.CurrentNode);
        Assert.Equal("after-crash", Assert.Single(await reopened.GetStepsAsync("wf-1")).Node);
        Assert.Equal("v", (await reopened.GetValueAsync("ns", "k"))!.Value.GetString());
        await Assert.ThrowsAsync<WorkflowConcurrencyException>(() => reopened.CommitAsync(new ChangeSet().UpdateWorkflow(v1)));
    }

    [Fact]
    public async Task AnyOperation_LeftoverIntentFromAnotherProcess_IsAppliedFirst()
    {
        await using var store = await OpenAsync();
        await store.CommitAsync(new ChangeSet().CreateWorkflow(NewWorkflow("wf-1")).CreateWorkflow(NewWorkflow("wf-2")));

        // Another process crashed half-way through deleting wf-2.
        var intent = """{"operations":[{"path":"workflows/wf-2/state.json","delete":true},{"path":"workflows/wf-2/steps.jsonl","delete":true}]}""";
        await File.WriteAllTextAsync(StorePath("journal", "intent.json"), intent);

        Assert.Null(await store.GetWorkflowAsync("wf-2"));
        Assert.NotNull(await store.GetWorkflowAsync("wf-1"));
        Assert.False(Directory.Exists(StorePath("workflows", "wf-2")));
    }

    [Fact]
    public async Task OpenAsync_DamagedIntent_ThrowsStoreCorruptNamingIt()
    {
        await (await OpenAsync()).DisposeAsync();
        Directory.CreateDirectory(StorePath("journal"));
        await File.WriteAllTextAsync(StorePath("journal", "intent.json"), "{\"operations\": [");

        var error = await Assert.ThrowsAsync<StoreCorruptException>(() => OpenAsync());
        Assert.Contains(StorePath("journal", "intent.json"), error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AnyOperation_FolderMovedAway_IsUnavailableAtOnceAndTheFolderIsNotMadeAgain()
    {
        await using var store = await OpenAsync(lockTimeout: TimeSpan.FromSeconds(30));
        await store.CommitAsync(new ChangeSet().CreateWorkflow(NewWorkflow("f1")));
        var away = StorePath() + ".away";
        Directory.Move(StorePath(), away);

        // Not "locked" after the lock timeout, not "no such workflow", not an empty list: gone, and said at once.
        var read = await Assert.ThrowsAsync<StoreUnavailableException>(() => store.GetWorkflowAsync("f1"));
        var write = await Assert.ThrowsAsync<StoreUnavailableException>(() => store.CommitAsync(new ChangeSet().CreateWorkflow(NewWorkflow("f2"))));
        var list = await Assert.ThrowsAsync<StoreUnavailableException>(() => store.ListWorkflowsAsync(new WorkflowQuery()));
        Assert.False(Directory.Exists(StorePath()));
        Assert.All([read, write, list], ex => Assert.Contains($"its folder '{StorePath()}' no longer exists", ex.Message, StringComparison.Ordinal));

        Directory.Move(away, StorePath());
        await store.CommitAsync(new ChangeSet().CreateWorkflow(NewWorkflow("f2")));
        Assert.Equal(["f1", "f2"], (await store.ListWorkflowsAsync(new WorkflowQuery())).Items.Select(w => w.Id).Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task CommitAsync_RefusedChangeSet_WritesNoFile()
    {
        await using var store = await OpenAsync();
        await store.CommitAsync(new ChangeSet().CreateWorkflow(NewWorkflow("wf-1")));
        var before = Snapshot();

        await Assert.ThrowsAsync<WorkflowNotFoundException>(() => store.CommitAsync(new ChangeSet()
            .SaveValue("ns", "k", RatchetJson.Parse("1"))
            .AppendStep(new StepRecord { WorkflowId = "wf-1", Node = "a" })
            .AppendStep(new StepRecord { WorkflowId = "missing", Node = "a" })));

        Assert.Equal(before, Snapshot());
    }

    [Fact]
    public async Task OpenAsync_NewerFormat_ThrowsSchemaAndLeavesRootUntouched()
    {
        Directory.CreateDirectory(StorePath());
        await File.WriteAllTextAsync(StorePath("format.json"), """{ "formatVersion": 99 }""");
        var before = Snapshot();

        var error = await Assert.ThrowsAsync<StoreSchemaException>(() => OpenAsync());
        Assert.Equal(99, error.StoreVersion);
        Assert.Equal(FilesRatchetStore.FormatVersion, error.SupportedVersion);
        Assert.Equal(before, Snapshot());
    }

    [Fact]
    public async Task OpenAsync_FolderOfOtherFiles_ThrowsStoreCorruptAndWritesNothing()
    {
        Directory.CreateDirectory(StorePath());
        await File.WriteAllTextAsync(StorePath("notes.txt"), "mine");
        var before = Snapshot();

        await Assert.ThrowsAsync<StoreCorruptException>(() => OpenAsync());
        Assert.Equal(before, Snapshot());
    }

    [Fact]
    public async Task AnyOperation_LockHeldElsewhere_ThrowsUnavailableAfterTimeout()
    {
        await using var store = await OpenAsync(TimeSpan.FromMilliseconds(200));
        await using (new FileStream(StorePath(".lock"), FileMode.Open, FileAccess.ReadWrite, FileShare.None))
        {
            var error = await Assert.ThrowsAsync<StoreUnavailableException>(() => store.GetWorkflowAsync("wf-1"));
            Assert.True(error.IsTransient);
        }

        Assert.Null(await store.GetWorkflowAsync("wf-1"));
    }

    [Fact]
    public async Task CommitAsync_TwoStoresOnOneRoot_NoLostUpdate()
    {
        await using var first = await OpenAsync();
        await using var second = await OpenAsync();

        async Task IncrementAsync(FilesRatchetStore store, int times)
        {
            for (var i = 0; i < times; i++)
            {
                while (true)
                {
                    var current = await store.GetValueAsync("ns", "counter");
                    var next = (current?.Value.GetInt32() ?? 0) + 1;
                    try
                    {
                        await store.CommitAsync(new ChangeSet().SaveValue("ns", "counter", RatchetJson.Parse(next.ToString(System.Globalization.CultureInfo.InvariantCulture)), current?.Version ?? 0));
                        break;
                    }
                    catch (KeyValueConcurrencyException)
                    {
                        // The other store won this round: read again.
                    }
                }
            }
        }

        await Task.WhenAll(Task.Run(() => IncrementAsync(first, 25)), Task.Run(() => IncrementAsync(second, 25)));

        var counter = await first.GetValueAsync("ns", "counter");
        Assert.Equal(50, counter!.Value.GetInt32());
        Assert.Equal(50, counter.Version);
    }

    [Fact]
    public async Task BackupAsync_CopyOpensAsAStoreWithTheSameExport()
    {
        await using var store = await OpenAsync();
        await store.CommitAsync(new ChangeSet().CreateWorkflow(SampleRecords.RichWorkflow("wf-1", _clock.GetUtcNow()))
            .SaveValue("ns", "k", SampleRecords.Tricky));
        await store.CreateCheckpointAsync("ns", "cp");
        var destination = Path.Combine(_root, "backup");

        await store.BackupAsync(destination);

        await using var copy = await FilesRatchetStore.OpenAsync(new FilesStoreOptions { Root = destination, TimeProvider = _clock });
        Assert.Equal(
            JsonSerializer.Serialize(await store.ExportAsync(), RatchetJsonContext.Default.StoreSnapshot),
            JsonSerializer.Serialize(await copy.ExportAsync(), RatchetJsonContext.Default.StoreSnapshot));
        await Assert.ThrowsAsync<ArgumentException>(() => store.BackupAsync(destination));
    }

    [Fact]
    public async Task DeleteWorkflowAsync_RemovesTheWorkflowFolder()
    {
        await using var store = await OpenAsync();
        await store.CommitAsync(new ChangeSet().CreateWorkflow(NewWorkflow("wf-1"))
            .AppendStep(new StepRecord { WorkflowId = "wf-1", Node = "a" })
            .PutWorkspace(new WorkspaceRecord { WorkflowId = "wf-1", Path = "/tmp/x" }));
        var v1 = (await store.GetWorkflowAsync("wf-1"))!;
        await store.CommitAsync(new ChangeSet().UpdateWorkflow(v1));

        Assert.True(await store.DeleteWorkflowAsync("wf-1"));
        Assert.False(Directory.Exists(StorePath("workflows", "wf-1")));
        Assert.False(await store.DeleteWorkflowAsync("wf-1"));
    }

    private SortedDictionary<string, string> Snapshot() =>
        new(Directory.EnumerateFiles(StorePath(), "*", SearchOption.AllDirectories)
                .Where(f => Path.GetFileName(f) != ".lock")
                .ToDictionary(f => Path.GetRelativePath(StorePath(), f), f => Convert.ToHexString(File.ReadAllBytes(f))),
            StringComparer.Ordinal);
}
