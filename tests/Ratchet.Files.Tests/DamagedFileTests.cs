using System.Collections.Concurrent;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;
using Ratchet.Conformance;
using Ratchet.Serialization;
using Ratchet.Storage;

namespace Ratchet.Files.Tests;

/// <summary>
/// A file damaged after its commit is refused, never replaced by its older <c>.bak</c>, and never rewritten; the rest
/// of the store keeps working; a crash during a commit still recovers, from the intent.
/// </summary>
public sealed class DamagedFileTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("ratchet-files-damage-").FullName;
    private readonly FakeTimeProvider _clock = new(TestClock.Start);
    private readonly WarningLog _log = new();

    public void Dispose()
    {
        if (Directory.Exists(_root))
        {
            Directory.Delete(_root, recursive: true);
        }
    }

    private string StorePath(params string[] parts) => Path.Combine([_root, "store", .. parts]);

    private Task<FilesRatchetStore> OpenAsync() =>
        FilesRatchetStore.OpenAsync(new FilesStoreOptions { Root = StorePath(), TimeProvider = _clock, LoggerFactory = _log });

    private WorkflowRecord NewWorkflow(string id) => new()
    {
        Id = id,
        Type = "demo",
        CreatedAt = _clock.GetUtcNow(),
        UpdatedAt = _clock.GetUtcNow(),
    };

    /// <summary>A workflow that ran (due, so a worker would claim it again) and then completed: its .bak is the running state.</summary>
    private async Task CompleteAsync(FilesRatchetStore store, string id)
    {
        await store.CommitAsync(new ChangeSet().CreateWorkflow(NewWorkflow(id))
            .AppendEvent(new AuditEvent { WorkflowId = id, Type = AuditEventTypes.Created, At = _clock.GetUtcNow() }));
        var created = (await store.GetWorkflowAsync(id))!;
        await store.CommitAsync(new ChangeSet().UpdateWorkflow(created with { Status = WorkflowStatus.Running, CurrentNode = "build", DueAt = _clock.GetUtcNow() }));
        var running = (await store.GetWorkflowAsync(id))!;
        await store.CommitAsync(new ChangeSet()
            .UpdateWorkflow(running with { Status = WorkflowStatus.Completed, DueAt = null, CompletedAt = _clock.GetUtcNow() })
            .AppendStep(new StepRecord { WorkflowId = id, Node = "build", Outcome = StepOutcome.Completed, StartedAt = _clock.GetUtcNow(), FinishedAt = _clock.GetUtcNow() }));
    }

    [Fact]
    public async Task GetAndClaim_DamagedStateOfCompletedWorkflowWithOlderCopy_RefusedAndNothingWritten()
    {
        await using var store = await OpenAsync();
        await CompleteAsync(store, "f1");
        var state = StorePath("workflows", "f1", "state.json");
        Assert.Equal("Running", JsonDocument.Parse(await File.ReadAllBytesAsync(state + ".bak")).RootElement.GetProperty("status").GetString());
        await File.WriteAllTextAsync(state, "{garbage\n");
        var before = Snapshot();

        var read = await Assert.ThrowsAsync<StoreCorruptException>(() => store.GetWorkflowAsync("f1"));
        var claim = await Assert.ThrowsAsync<StoreCorruptException>(() => store.ClaimWorkflowAsync("f1", "worker", TimeSpan.FromMinutes(1)));
        var due = await store.ClaimDueWorkflowsAsync(new LeaseRequest { Owner = "worker", Duration = TimeSpan.FromMinutes(1) });
        await Assert.ThrowsAsync<StoreCorruptException>(() => store.CommitAsync(new ChangeSet()
            .AppendStep(new StepRecord { WorkflowId = "f1", Node = "build" })));
        await Assert.ThrowsAsync<StoreCorruptException>(() => store.DeleteWorkflowAsync("f1"));

        Assert.Contains(state, read.Message, StringComparison.Ordinal);
        Assert.Contains(state + ".bak", read.Message, StringComparison.Ordinal);
        Assert.Contains(StorePath("workflows", "f1"), read.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', read.Message);
        Assert.IsAssignableFrom<JsonException>(read.InnerException);
        Assert.Equal("store-corrupt", claim.ErrorCode);
        Assert.Empty(due);
        Assert.Equal(before, Snapshot());
    }

    [Fact]
    public async Task GetEvents_JournalCutShortAfterItsCommit_RefusedNotShortened()
    {
        await using var store = await OpenAsync();
        await store.CommitAsync(new ChangeSet().CreateWorkflow(NewWorkflow("wf-1"))
            .AppendEvent(new AuditEvent { WorkflowId = "wf-1", Type = "one", At = _clock.GetUtcNow() }));
        await store.CommitAsync(new ChangeSet()
            .AppendEvent(new AuditEvent { WorkflowId = "wf-1", Type = "two", At = _clock.GetUtcNow() }));
        var events = StorePath("workflows", "wf-1", "events.jsonl");
        var text = await File.ReadAllTextAsync(events);
        await File.WriteAllTextAsync(events, text[..^5]);
        var before = Snapshot();

        var error = await Assert.ThrowsAsync<StoreCorruptException>(() => store.GetEventsAsync("wf-1"));
        await Assert.ThrowsAsync<StoreCorruptException>(() => store.CommitAsync(new ChangeSet()
            .AppendEvent(new AuditEvent { WorkflowId = "wf-1", Type = "three", At = _clock.GetUtcNow() })));

        Assert.Contains(events, error.Message, StringComparison.Ordinal);
        Assert.Equal("wf-1", (await store.GetWorkflowAsync("wf-1"))!.Id);
        Assert.Equal(before, Snapshot());
    }

    [Theory]
    [InlineData("torn")]
    [InlineData("between-renames")]
    public async Task OpenAsync_CrashWhileWritingTheState_CompletesTheCommitFromTheIntentNotTheCopy(string crash)
    {
        await using (var store = await OpenAsync())
        {
            await store.CommitAsync(new ChangeSet().CreateWorkflow(NewWorkflow("wf-1")));
            var v1 = (await store.GetWorkflowAsync("wf-1"))!;
            await store.CommitAsync(new ChangeSet().UpdateWorkflow(v1 with { CurrentNode = "second" }));
        }

        // The commit of version 3 crashed after its intent was durable, in the middle of replacing state.json: the
        // current file had become the .bak and the new one was torn, or not yet renamed into place.
        var state = StorePath("workflows", "wf-1", "state.json");
        var v2 = JsonSerializer.Deserialize(await File.ReadAllBytesAsync(state), RatchetJsonContext.Default.WorkflowRecord)!;
        var v3 = JsonSerializer.SerializeToUtf8Bytes(v2 with { Version = 3, CurrentNode = "third" }, RatchetJsonContext.Indented.WorkflowRecord);
        var intent = JsonSerializer.Serialize(new { operations = new object[] { new { path = "workflows/wf-1/state.json", data = v3 } } });
        Directory.CreateDirectory(StorePath("journal"));
        await File.WriteAllTextAsync(StorePath("journal", "intent.json"), intent);
        File.Move(state, state + ".bak", overwrite: true);
        if (crash == "torn")
        {
            await File.WriteAllBytesAsync(state, v3[..(v3.Length / 2)]);
        }
        else
        {
            await File.WriteAllBytesAsync(state + ".tmp", v3);
        }

        await using var reopened = await OpenAsync();
        var workflow = await reopened.GetWorkflowAsync("wf-1");

        Assert.Equal(3, workflow!.Version);
        Assert.Equal("third", workflow.CurrentNode);
        Assert.False(File.Exists(StorePath("journal", "intent.json")));
        Assert.Equal(3, Assert.Single((await reopened.ListWorkflowsAsync(new WorkflowQuery())).Items).Version);
    }

    [Fact]
    public async Task GetValue_DamagedAfterCommittedRestore_RefusedNotRolledBack()
    {
        await using var store = await OpenAsync();
        await store.CommitAsync(new ChangeSet().SaveValue("ns", "k", RatchetJson.Parse("1")).SaveValue("other", "x", RatchetJson.Parse("7")));
        await store.CreateCheckpointAsync("ns", "cp");
        await store.CommitAsync(new ChangeSet().SaveValue("ns", "k", RatchetJson.Parse("2")));
        await store.RestoreCheckpointAsync("ns", "cp");
        var value = StorePath("kv", "ns", "values", "k.json");
        var committed = JsonDocument.Parse(await File.ReadAllBytesAsync(value)).RootElement;
        Assert.Equal((1, 3), (committed.GetProperty("value").GetInt32(), committed.GetProperty("version").GetInt32()));
        await File.WriteAllTextAsync(value, "{\"namespace\": \"ns\", \"key\": ");
        var before = Snapshot();

        var read = await Assert.ThrowsAsync<StoreCorruptException>(() => store.GetValueAsync("ns", "k"));
        await Assert.ThrowsAsync<StoreCorruptException>(() => store.ListValuesAsync("ns"));
        await Assert.ThrowsAsync<StoreCorruptException>(() => store.CommitAsync(new ChangeSet().SaveValue("ns", "k", RatchetJson.Parse("3"))));
        await Assert.ThrowsAsync<StoreCorruptException>(() => store.RestoreCheckpointAsync("ns", "cp"));
        await Assert.ThrowsAsync<StoreCorruptException>(() => store.CreateCheckpointAsync("ns", "again"));

        Assert.Contains(value + ".bak", read.Message, StringComparison.Ordinal);
        Assert.Equal(before, Snapshot());
        Assert.Equal(7, (await store.GetValueAsync("other", "x"))!.Value.GetInt32());
        Assert.Equal(["ns", "other"], await store.ListNamespacesAsync());
        await store.CommitAsync(new ChangeSet().SaveValue("other", "x", RatchetJson.Parse("8")));
        Assert.Equal(2, (await store.GetValueAsync("other", "x"))!.Version);
    }

    [Fact]
    public async Task Checkpoints_DamagedCheckpoint_RefusedWhenReadLeftOutOfTheListing()
    {
        await using var store = await OpenAsync();
        await store.CommitAsync(new ChangeSet().SaveValue("ns", "k", RatchetJson.Parse("1")));
        await store.CreateCheckpointAsync("ns", "good");
        await store.CreateCheckpointAsync("ns", "bad");
        var bad = StorePath("kv", "ns", "checkpoints", "bad.json");
        await File.WriteAllTextAsync(bad, "[");
        var before = Snapshot();

        await Assert.ThrowsAsync<StoreCorruptException>(() => store.GetCheckpointAsync("ns", "bad"));
        await Assert.ThrowsAsync<StoreCorruptException>(() => store.RestoreCheckpointAsync("ns", "bad"));
        var listed = await store.ListCheckpointsAsync("ns");

        Assert.Equal(["good"], listed.Select(c => c.Name));
        Assert.Contains(_log.Warnings, w => w.EventId == 2203 && w.Exception is StoreCorruptException);
        await store.RestoreCheckpointAsync("ns", "good");
        Assert.Equal(2, (await store.GetValueAsync("ns", "k"))!.Version);
        Assert.Equal(before[Path.Combine("kv", "ns", "checkpoints", "bad.json")], Snapshot()[Path.Combine("kv", "ns", "checkpoints", "bad.json")]);
    }

    [Fact]
    public async Task DamagedWorkflow_OtherWorkflowsStayReadableListableAndWritable()
    {
        await using var store = await OpenAsync();
        await CompleteAsync(store, "f1");
        await store.CommitAsync(new ChangeSet()
            .CreateWorkflow(NewWorkflow("ok-1") with { Status = WorkflowStatus.Running, DueAt = _clock.GetUtcNow() })
            .CreateWorkflow(NewWorkflow("done-1") with { Status = WorkflowStatus.Completed, CompletedAt = _clock.GetUtcNow() })
            .PutWorkspace(new WorkspaceRecord { WorkflowId = "ok-1", Path = "/tmp/ok-1" }));
        await File.WriteAllTextAsync(StorePath("workflows", "f1", "state.json"), "{garbage\n");
        var damaged = Files("workflows/f1");
        _clock.Advance(TimeSpan.FromMinutes(1));

        var listed = await store.ListWorkflowsAsync(new WorkflowQuery());
        var claimed = await store.ClaimDueWorkflowsAsync(new LeaseRequest { Owner = "worker", Duration = TimeSpan.FromMinutes(5) });
        var renewed = await store.RenewLeasesAsync("worker", TimeSpan.FromMinutes(5));
        var archived = await store.ArchiveWorkflowsAsync(_clock.GetUtcNow());
        var workspaces = await store.ListWorkspacesAsync();
        var okOne = (await store.GetWorkflowAsync("ok-1"))!;
        await store.CommitAsync(new ChangeSet().UpdateWorkflow(okOne with { CurrentNode = "next" })
            .AppendStep(new StepRecord { WorkflowId = "ok-1", Node = "first" }));
        await store.CommitAsync(new ChangeSet().CreateWorkflow(NewWorkflow("new-1")));

        Assert.Equal(["done-1", "ok-1"], listed.Items.Select(w => w.Id).Order(StringComparer.Ordinal));
        Assert.Equal(["ok-1"], claimed.Select(w => w.Id));
        Assert.Equal(1, renewed);
        Assert.Equal(1, archived);
        Assert.Equal(["ok-1"], workspaces.Select(w => w.WorkflowId));
        Assert.Equal("next", (await store.GetWorkflowAsync("ok-1"))!.CurrentNode);
        Assert.Single(await store.GetStepsAsync("ok-1"));
        Assert.NotNull(await store.GetWorkflowAsync("new-1"));
        Assert.Equal(damaged, Files("workflows/f1"));
        Assert.Contains(_log.Warnings, w => w.EventId == 2203 && w.Exception!.Message.Contains(StorePath("workflows", "f1", "state.json"), StringComparison.Ordinal));
    }

    [Fact]
    public async Task ExportAndImport_DamagedWorkflow_ExportRefusedNamingItImportSeesData()
    {
        await using var store = await OpenAsync();
        await CompleteAsync(store, "f1");
        await store.CommitAsync(new ChangeSet().CreateWorkflow(NewWorkflow("ok-1")));
        var snapshot = await store.ExportAsync();
        var steps = StorePath("workflows", "f1", "steps.jsonl");
        await File.WriteAllTextAsync(steps, "{\"workflowId\": \"f1\"");

        var export = await Assert.ThrowsAsync<StoreCorruptException>(() => store.ExportAsync());
        Assert.Contains(steps, export.Message, StringComparison.Ordinal);
        Assert.Contains("workflow 'f1'", export.Message, StringComparison.Ordinal);

        await File.WriteAllTextAsync(StorePath("workflows", "f1", "state.json"), "{garbage\n");
        var exportState = await Assert.ThrowsAsync<StoreCorruptException>(() => store.ExportAsync());
        Assert.Contains(StorePath("workflows", "f1", "state.json"), exportState.Message, StringComparison.Ordinal);

        // The only other workflow gone, the store still holds the damaged one: it is not empty.
        Assert.True(await store.DeleteWorkflowAsync("ok-1"));
        await Assert.ThrowsAsync<StoreNotEmptyException>(() => store.ImportAsync(snapshot));
        await Assert.ThrowsAsync<StoreCorruptException>(() => store.ImportAsync(snapshot, ImportMode.Merge));
    }

    [Fact]
    public async Task GetWorkflow_StateRemovedOutsideTheStore_RefusedRatherThanReportedAbsent()
    {
        await using var store = await OpenAsync();
        await store.CommitAsync(new ChangeSet().CreateWorkflow(NewWorkflow("once"))
            .AppendEvent(new AuditEvent { WorkflowId = "once", Type = AuditEventTypes.Created, At = _clock.GetUtcNow() }));
        await CompleteAsync(store, "twice");
        File.Delete(StorePath("workflows", "once", "state.json"));
        File.Delete(StorePath("workflows", "twice", "state.json"));
        var before = Snapshot();

        var once = await Assert.ThrowsAsync<StoreCorruptException>(() => store.GetWorkflowAsync("once"));
        var twice = await Assert.ThrowsAsync<StoreCorruptException>(() => store.GetWorkflowAsync("twice"));
        await Assert.ThrowsAsync<StoreCorruptException>(() => store.CommitAsync(new ChangeSet().CreateWorkflow(NewWorkflow("once"))));

        Assert.Contains("events.jsonl", once.Message, StringComparison.Ordinal);
        Assert.Contains(StorePath("workflows", "twice", "state.json.bak"), twice.Message, StringComparison.Ordinal);
        Assert.Empty((await store.ListWorkflowsAsync(new WorkflowQuery())).Items);
        Assert.Equal(before, Snapshot());
    }

    private SortedDictionary<string, string> Snapshot() => Files("");

    private SortedDictionary<string, string> Files(string folder) =>
        new(Directory.EnumerateFiles(Path.Combine(StorePath(), folder), "*", SearchOption.AllDirectories)
                .Where(f => Path.GetFileName(f) != ".lock")
                .ToDictionary(f => Path.GetRelativePath(StorePath(), f), f => Convert.ToHexString(File.ReadAllBytes(f))),
            StringComparer.Ordinal);

    /// <summary>Keeps the store's warnings, so that a left-out record is shown to have been reported.</summary>
    private sealed class WarningLog : ILoggerFactory
    {
        private readonly ConcurrentQueue<(int EventId, Exception? Exception)> _warnings = new();

        public IReadOnlyList<(int EventId, Exception? Exception)> Warnings => [.. _warnings];

        public ILogger CreateLogger(string categoryName) => new Logger(_warnings);

        public void AddProvider(ILoggerProvider provider)
        {
        }

        public void Dispose()
        {
        }

        private sealed class Logger(ConcurrentQueue<(int, Exception?)> warnings) : ILogger
        {
            public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

            public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Warning;

            public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
            {
                if (IsEnabled(logLevel))
                {
                    warnings.Enqueue((eventId.Id, exception));
                }
            }
        }
    }
}
