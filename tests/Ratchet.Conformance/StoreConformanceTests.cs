using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Time.Testing;
using Ratchet.Serialization;
using Ratchet.Storage;
using Xunit;

namespace Ratchet.Conformance;

/// <summary>
/// The base of every conformance class: a manual clock, fresh stores from <typeparamref name="TFactory"/> (dropped
/// when the test ends) and builders for records. Each test creates its own store(s); tests share nothing.
/// </summary>
/// <typeparam name="TFactory">The backend's store factory.</typeparam>
public abstract class StoreConformanceTests<TFactory> : IAsyncLifetime
    where TFactory : StoreFactory, new()
{
    /// <summary>The default workflow type of the builders.</summary>
    protected const string DefaultType = "conformance";

    private readonly List<IRatchetStore> _stores = [];

    /// <summary>The backend's factory.</summary>
    protected TFactory Factory { get; } = new();

    /// <summary>The clock every store of the test runs on; starts at <see cref="TestClock.Start"/>.</summary>
    protected FakeTimeProvider Clock { get; } = new(TestClock.Start);

    /// <summary>The clock's current time as stores keep it (whole microseconds, UTC).</summary>
    protected DateTimeOffset Now => Clock.GetStoreNow();

    /// <inheritdoc />
    public Task InitializeAsync() => Task.CompletedTask;

    /// <inheritdoc />
    public async Task DisposeAsync()
    {
        IRatchetStore[] stores;
        lock (_stores)
        {
            stores = [.. _stores];
            _stores.Clear();
        }

        foreach (var store in stores)
        {
            await Factory.DropStoreAsync(store);
        }
    }

    /// <summary>A new, empty store on <see cref="Clock"/> (or <paramref name="clock"/>), dropped after the test.</summary>
    protected async Task<IRatchetStore> CreateStoreAsync(TimeProvider? clock = null)
    {
        var store = await Factory.CreateStoreAsync(clock ?? Clock);
        lock (_stores)
        {
            _stores.Add(store);
        }

        return store;
    }

    /// <summary>Closes <paramref name="store"/> and opens its data again, as a restarted process would.</summary>
    /// <remarks>A backend whose factory cannot reopen stores skips the calling test, with the factory's reason.</remarks>
    protected async Task<IRatchetStore> ReopenAsync(IRatchetStore store)
    {
        lock (_stores)
        {
            _stores.Remove(store);
        }

        var reopened = await Factory.ReopenStoreAsync(store, Clock);
        lock (_stores)
        {
            _stores.Add(reopened);
        }

        return reopened;
    }

    /// <summary>Parses JSON text.</summary>
    protected static JsonElement Json(string text) => RatchetJson.Parse(text);

    /// <summary>A new Pending workflow record (version 0), due now, with times from <see cref="Clock"/>.</summary>
    protected WorkflowRecord NewWorkflow(string id, string type = DefaultType) => new()
    {
        Id = id,
        Type = type,
        DefinitionVersion = "v1",
        Status = WorkflowStatus.Pending,
        DueAt = Now,
        CreatedAt = Now,
        UpdatedAt = Now,
    };

    /// <summary>Commits the creation of <paramref name="record"/> and returns it as the store now holds it.</summary>
    protected static async Task<WorkflowRecord> InsertAsync(IRatchetStore store, WorkflowRecord record)
    {
        await store.CommitAsync(new ChangeSet().CreateWorkflow(record));
        return await store.GetRequiredWorkflowAsync(record.Id);
    }

    /// <summary>Creates a Pending workflow (see <see cref="NewWorkflow"/>) and returns it as stored.</summary>
    protected Task<WorkflowRecord> InsertAsync(IRatchetStore store, string id, string type = DefaultType) =>
        InsertAsync(store, NewWorkflow(id, type));

    /// <summary>Commits an update of <paramref name="record"/> (stamped with the clock's time) and returns it as stored.</summary>
    protected async Task<WorkflowRecord> UpdateAsync(IRatchetStore store, WorkflowRecord record, LeaseAction lease = LeaseAction.Keep)
    {
        await store.CommitAsync(new ChangeSet().UpdateWorkflow(record with { UpdatedAt = Now }, lease));
        return await store.GetRequiredWorkflowAsync(record.Id);
    }

    /// <summary>Moves a stored workflow along the lifecycle, committing each status in turn; returns it as stored.</summary>
    protected async Task<WorkflowRecord> MoveAsync(IRatchetStore store, WorkflowRecord record, params WorkflowStatus[] path)
    {
        foreach (var status in path)
        {
            var reason = status == WorkflowStatus.Waiting ? WaitReason.Signal : WaitReason.None;
            record = await UpdateAsync(store, record.TransitionTo(status, Now, reason));
        }

        return record;
    }

    /// <summary>An audit event stamped with the clock's time.</summary>
    protected AuditEvent NewEvent(string workflowId, string type = "note", JsonElement? payload = null) => new()
    {
        WorkflowId = workflowId,
        Type = type,
        Payload = payload,
        At = Now,
    };

    /// <summary>A completed journal entry stamped with the clock's time.</summary>
    protected StepRecord NewStep(string workflowId, string node, JsonElement? output = null) => new()
    {
        WorkflowId = workflowId,
        Node = node,
        Outcome = StepOutcome.Completed,
        Output = output,
        StartedAt = Now,
        FinishedAt = Now,
    };

    /// <summary>A command execution stamped with the clock's time.</summary>
    protected CommandExecution NewCommand(string workflowId, string commandLine) => new()
    {
        WorkflowId = workflowId,
        Node = "build",
        CommandLine = commandLine,
        WorkingDirectory = "/tmp/work",
        ExitCode = 0,
        Duration = TimeSpan.FromMilliseconds(250),
        StartedAt = Now,
    };

    /// <summary>A workspace stamped with the clock's time.</summary>
    protected WorkspaceRecord NewWorkspace(string workflowId, WorkspaceStatus status = WorkspaceStatus.Active) => new()
    {
        WorkflowId = workflowId,
        Path = $"/var/ratchet/workspaces/{workflowId}",
        Status = status,
        CreatedAt = Now,
        HeartbeatAt = Now,
    };

    /// <summary>Saves one value in its own commit and returns the entry as stored.</summary>
    protected static async Task<KeyValueEntry> SaveAsync(IRatchetStore store, string @namespace, string key, string json)
    {
        await store.SaveValueAsync(@namespace, key, Json(json));
        return await store.GetValueAsync(@namespace, key) ?? throw new InvalidOperationException($"'{key}' vanished right after it was saved.");
    }

    /// <summary>The snapshot as <see cref="RatchetJson.WriteSnapshotAsync"/> writes it.</summary>
    protected static async Task<string> SnapshotTextAsync(StoreSnapshot snapshot)
    {
        using var buffer = new MemoryStream();
        await RatchetJson.WriteSnapshotAsync(buffer, snapshot);
        return Encoding.UTF8.GetString(buffer.ToArray());
    }

    /// <summary>The store's export, as text.</summary>
    protected static async Task<string> ExportTextAsync(IRatchetStore store) => await SnapshotTextAsync(await store.ExportAsync());

    /// <summary>Every workflow of every page of <paramref name="query"/>, and how many pages it took.</summary>
    protected static async Task<(List<WorkflowRecord> Items, List<int> PageSizes)> ListAllPagesAsync(IRatchetStore store, WorkflowQuery query)
    {
        var items = new List<WorkflowRecord>();
        var pageSizes = new List<int>();
        for (var page = 0; page < 10_000; page++)
        {
            var result = await store.ListWorkflowsAsync(query);
            items.AddRange(result.Items);
            pageSizes.Add(result.Items.Count);
            if (result.NextPageToken is null)
            {
                return (items, pageSizes);
            }

            query = query with { PageToken = result.NextPageToken };
        }

        throw new InvalidOperationException("Paging never ended: the store keeps returning a next-page token.");
    }
}
