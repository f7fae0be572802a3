using Ratchet.Serialization;
using Ratchet.Storage;
using Xunit;

namespace Ratchet.Conformance;

/// <summary>Workflows: create, read, update, idempotent creation, listing with filters and paging, due work.</summary>
public abstract class WorkflowConformanceTests<TFactory> : StoreConformanceTests<TFactory>
    where TFactory : StoreFactory, new()
{
    [StoreFact]
    public async Task CommitAsync_CreateWorkflow_StoresEveryFieldAtVersion1()
    {
        var store = await CreateStoreAsync();
        var record = SampleRecords.RichWorkflow("wf-rich", Now, parentId: "parent-1");

        await store.CommitAsync(new ChangeSet().CreateWorkflow(record));

        var stored = await store.GetWorkflowAsync("wf-rich");
        Assert.NotNull(stored);
        RecordAssert.Same(record with { Version = 1 }, stored);
    }

    [StoreFact]
    public async Task Description_OpenStore_NamesTheStore()
    {
        var store = await CreateStoreAsync();

        Assert.False(string.IsNullOrWhiteSpace(store.Description));
    }

    [StoreFact]
    public async Task GetWorkflowAsync_UnknownId_ReturnsNull()
    {
        var store = await CreateStoreAsync();
        await InsertAsync(store, "known");

        Assert.Null(await store.GetWorkflowAsync("unknown"));
        Assert.Null(await store.GetWorkflowAsync("KNOWN"));
    }

    [StoreFact]
    public async Task CommitAsync_UpdateWorkflow_StoresNewFieldsAtNextVersion()
    {
        var store = await CreateStoreAsync();
        var created = await InsertAsync(store, "wf-1");
        Clock.Advance(TimeSpan.FromSeconds(3));
        var changed = created.TransitionTo(WorkflowStatus.Running, Now) with
        {
            CurrentNode = "plan",
            Attempt = 1,
            Artifacts = new Dictionary<string, System.Text.Json.JsonElement> { ["analyze"] = Json("""{"ok":true}""") },
            Metadata = Json("""{"issue":7}"""),
            DueAt = Now.AddMinutes(1),
            Error = new WorkflowError("Transient", "first try failed"),
        };

        await store.CommitAsync(new ChangeSet().UpdateWorkflow(changed));

        var stored = await store.GetRequiredWorkflowAsync("wf-1");
        RecordAssert.Same(changed with { Version = 2 }, stored);
    }

    [StoreFact]
    public async Task CreateAsync_NoId_GeneratesEightCrockfordCharacters()
    {
        var store = await CreateStoreAsync();
        var creator = new WorkflowCreator(store, Clock);

        var result = await creator.CreateAsync(new NewWorkflow { Type = "bug-fix", Input = Json("""{"n":1}""") });

        Assert.True(result.Created);
        Assert.Equal(8, result.Workflow.Id.Length);
        Assert.All(result.Workflow.Id, c => Assert.Contains(c, WorkflowIds.CrockfordAlphabet));
        var stored = await store.GetRequiredWorkflowAsync(result.Workflow.Id);
        RecordAssert.Same(result.Workflow, stored);
        Assert.Equal(1, stored.Version);
        Assert.Equal(WorkflowStatus.Pending, stored.Status);
        RecordAssert.Utc(Now, stored.DueAt);
        var created = Assert.Single(await store.GetEventsAsync(stored.Id));
        Assert.Equal(AuditEventTypes.Created, created.Type);
        Assert.Equal(1, created.Sequence);
    }

    [StoreFact]
    public async Task CreateAsync_GeneratedIdCollides_RegeneratesAndKeepsExisting()
    {
        var store = await CreateStoreAsync();
        var ids = new SequenceIdGenerator("AAAAAAAA", "AAAAAAAA", "BBBBBBBB");
        var creator = new WorkflowCreator(store, Clock, ids);
        var first = await creator.CreateAsync(new NewWorkflow { Type = "first", Input = Json("1") });

        var second = await creator.CreateAsync(new NewWorkflow { Type = "second", Input = Json("2") });

        Assert.Equal("AAAAAAAA", first.Workflow.Id);
        Assert.Equal("BBBBBBBB", second.Workflow.Id);
        Assert.True(second.Created);
        Assert.Equal(3, ids.Calls);
        var existing = await store.GetRequiredWorkflowAsync("AAAAAAAA");
        Assert.Equal("first", existing.Type);
        Assert.Equal(1, existing.Version);
        RecordAssert.JsonEqual(Json("1"), existing.Input);
        Assert.Single(await store.GetEventsAsync("AAAAAAAA"));
        Assert.Equal("second", (await store.GetRequiredWorkflowAsync("BBBBBBBB")).Type);
        Assert.Single(await store.GetEventsAsync("BBBBBBBB"));
    }

    [StoreFact]
    public async Task CreateAsync_GeneratedIdAlwaysCollides_ThrowsAfterMaxAttempts()
    {
        var store = await CreateStoreAsync();
        var ids = new SequenceIdGenerator("AAAAAAAA");
        var creator = new WorkflowCreator(store, Clock, ids);
        await creator.CreateAsync(new NewWorkflow { Type = "first" });

        var error = await Assert.ThrowsAsync<WorkflowAlreadyExistsException>(() => creator.CreateAsync(new NewWorkflow { Type = "second" }));

        Assert.Equal("AAAAAAAA", error.WorkflowId);
        Assert.Equal(1 + WorkflowCreator.MaxGeneratedIdAttempts, ids.Calls);
        var all = await store.ListWorkflowsAsync(new WorkflowQuery { IncludeArchived = true });
        Assert.Equal("first", Assert.Single(all.Items).Type);
        Assert.Single(await store.GetEventsAsync("AAAAAAAA"));
    }

    [StoreFact]
    public async Task CreateAsync_SuppliedId_CreatesWithThatIdAndCreatedEvent()
    {
        var store = await CreateStoreAsync();
        var creator = new WorkflowCreator(store, Clock);

        var result = await creator.CreateAsync(new NewWorkflow
        {
            Type = "pr-review",
            Id = "pr-1234",
            Input = Json("""{"pr":1234}"""),
            Metadata = Json("""{"repo":"acme/widgets"}"""),
            ParentId = "parent",
            DefinitionVersion = "abc",
            StartNode = "fetch",
            DueAt = Now.AddMinutes(10),
            TraceParent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
        });

        Assert.True(result.Created);
        var stored = await store.GetRequiredWorkflowAsync("pr-1234");
        RecordAssert.Same(result.Workflow, stored);
        Assert.Equal("pr-review", stored.Type);
        Assert.Equal("fetch", stored.CurrentNode);
        Assert.Equal("parent", stored.ParentId);
        Assert.Equal("abc", stored.DefinitionVersion);
        RecordAssert.Utc(Now.AddMinutes(10), stored.DueAt);
        RecordAssert.JsonEqual(Json("""{"pr":1234}"""), stored.Input);
        var created = Assert.Single(await store.GetEventsAsync("pr-1234"));
        Assert.Equal(AuditEventTypes.Created, created.Type);
    }

    [StoreFact]
    public async Task CreateAsync_SuppliedIdExistsWithSameType_ReturnsExistingNotCreated()
    {
        var store = await CreateStoreAsync();
        var creator = new WorkflowCreator(store, Clock);
        var first = await creator.CreateAsync(new NewWorkflow { Type = "bug-fix", Id = "issue-42", Input = Json("""{"attempt":"first"}""") });
        Clock.Advance(TimeSpan.FromMinutes(1));

        var second = await creator.CreateAsync(new NewWorkflow { Type = "bug-fix", Id = "issue-42", Input = Json("""{"attempt":"second"}""") });

        Assert.True(first.Created);
        Assert.False(second.Created);
        RecordAssert.Same(first.Workflow, second.Workflow);
        var stored = await store.GetRequiredWorkflowAsync("issue-42");
        Assert.Equal(1, stored.Version);
        RecordAssert.JsonEqual(Json("""{"attempt":"first"}"""), stored.Input);
        Assert.Single(await store.GetEventsAsync("issue-42"));
    }

    [StoreFact]
    public async Task CreateAsync_SuppliedIdExistsWithOtherType_ThrowsAndKeepsExisting()
    {
        var store = await CreateStoreAsync();
        var creator = new WorkflowCreator(store, Clock);
        await creator.CreateAsync(new NewWorkflow { Type = "bug-fix", Id = "issue-42" });

        var error = await Assert.ThrowsAsync<WorkflowAlreadyExistsException>(
            () => creator.CreateAsync(new NewWorkflow { Type = "docs-update", Id = "issue-42" }));

        Assert.Equal("issue-42", error.WorkflowId);
        Assert.Contains("bug-fix", error.Message, StringComparison.Ordinal);
        Assert.Contains("docs-update", error.Message, StringComparison.Ordinal);
        var stored = await store.GetRequiredWorkflowAsync("issue-42");
        Assert.Equal("bug-fix", stored.Type);
        Assert.Equal(1, stored.Version);
        Assert.Single(await store.GetEventsAsync("issue-42"));
    }

    [StoreFact]
    public async Task CreateAsync_InvalidSuppliedId_ThrowsArgumentAndStoresNothing()
    {
        var store = await CreateStoreAsync();
        var creator = new WorkflowCreator(store, Clock);

        await Assert.ThrowsAsync<ArgumentException>(() => creator.CreateAsync(new NewWorkflow { Type = "t", Id = "bad/id" }));
        await Assert.ThrowsAsync<ArgumentException>(() => creator.CreateAsync(new NewWorkflow { Type = "t", Id = "-leading-dash" }));

        Assert.True((await store.ExportAsync()).IsEmpty);
    }

    [StoreFact]
    public async Task ListWorkflowsAsync_NoFilter_ListsAllOldestFirstByCreatedThenId()
    {
        var store = await CreateStoreAsync();
        await SeedListingAsync(store);

        var page = await store.ListWorkflowsAsync(new WorkflowQuery());

        Assert.Equal(["a-pending", "b-running", "c-waiting", "d-completed", "e-failed", "f-cancelled"], page.Items.Select(w => w.Id));
        Assert.Null(page.NextPageToken);
        RecordAssert.Same(await store.GetRequiredWorkflowAsync("c-waiting"), page.Items[2]);
    }

    [StoreFact]
    public async Task ListWorkflowsAsync_NewestFirst_ListsNewestFirstByCreatedThenId()
    {
        var store = await CreateStoreAsync();
        await SeedListingAsync(store);

        var page = await store.ListWorkflowsAsync(new WorkflowQuery { Order = ListOrder.NewestFirst });

        Assert.Equal(["f-cancelled", "e-failed", "d-completed", "c-waiting", "b-running", "a-pending"], page.Items.Select(w => w.Id));
    }

    [StoreFact]
    public async Task ListWorkflowsAsync_StatusesFilter_ReturnsOnlyThoseStatuses()
    {
        var store = await CreateStoreAsync();
        await SeedListingAsync(store);

        var terminal = await store.ListWorkflowsAsync(new WorkflowQuery
        {
            Statuses = [WorkflowStatus.Completed, WorkflowStatus.Failed, WorkflowStatus.Cancelled],
        });
        var waiting = await store.ListWorkflowsAsync(new WorkflowQuery { Statuses = [WorkflowStatus.Waiting] });
        var empty = await store.ListWorkflowsAsync(new WorkflowQuery { Statuses = [] });

        Assert.Equal(["d-completed", "e-failed", "f-cancelled"], terminal.Items.Select(w => w.Id));
        Assert.Equal(["c-waiting"], waiting.Items.Select(w => w.Id));
        Assert.Equal(6, empty.Items.Count);
    }

    [StoreFact]
    public async Task ListWorkflowsAsync_TypesFilter_ReturnsOnlyThoseTypes()
    {
        var store = await CreateStoreAsync();
        await SeedListingAsync(store);

        var alpha = await store.ListWorkflowsAsync(new WorkflowQuery { Types = ["alpha"] });
        var betaGamma = await store.ListWorkflowsAsync(new WorkflowQuery { Types = ["beta", "gamma"] });
        var none = await store.ListWorkflowsAsync(new WorkflowQuery { Types = ["ALPHA"] });

        Assert.Equal(["a-pending", "c-waiting", "f-cancelled"], alpha.Items.Select(w => w.Id));
        Assert.Equal(["b-running", "d-completed", "e-failed"], betaGamma.Items.Select(w => w.Id));
        Assert.Empty(none.Items);
    }

    [StoreFact]
    public async Task ListWorkflowsAsync_ParentIdFilter_ReturnsOnlyItsChildren()
    {
        var store = await CreateStoreAsync();
        await SeedListingAsync(store);

        var children = await store.ListWorkflowsAsync(new WorkflowQuery { ParentId = "a-pending" });
        var none = await store.ListWorkflowsAsync(new WorkflowQuery { ParentId = "c-waiting" });

        Assert.Equal(["c-waiting", "d-completed"], children.Items.Select(w => w.Id));
        Assert.Empty(none.Items);
    }

    [StoreFact]
    public async Task ListWorkflowsAsync_CreatedRange_IncludesFromExcludesTo()
    {
        var store = await CreateStoreAsync();
        var t0 = await SeedListingAsync(store);

        var middle = await store.ListWorkflowsAsync(new WorkflowQuery { CreatedFrom = t0.AddSeconds(1), CreatedTo = t0.AddSeconds(3) });
        var from = await store.ListWorkflowsAsync(new WorkflowQuery { CreatedFrom = t0.AddSeconds(3) });
        var to = await store.ListWorkflowsAsync(new WorkflowQuery { CreatedTo = t0.AddSeconds(1) });
        var between = await store.ListWorkflowsAsync(new WorkflowQuery { CreatedFrom = t0.AddMilliseconds(1), CreatedTo = t0.AddMilliseconds(999) });

        Assert.Equal(["c-waiting", "d-completed"], middle.Items.Select(w => w.Id));
        Assert.Equal(["e-failed", "f-cancelled"], from.Items.Select(w => w.Id));
        Assert.Equal(["a-pending", "b-running"], to.Items.Select(w => w.Id));
        Assert.Empty(between.Items);
        var offset = await store.ListWorkflowsAsync(new WorkflowQuery { CreatedFrom = t0.AddSeconds(1).ToOffset(TimeSpan.FromHours(9)), CreatedTo = t0.AddSeconds(3).ToOffset(TimeSpan.FromHours(-3)) });
        Assert.Equal(["c-waiting", "d-completed"], offset.Items.Select(w => w.Id));
    }

    [StoreFact]
    public async Task ListWorkflowsAsync_UpdatedRange_IncludesFromExcludesTo()
    {
        var store = await CreateStoreAsync();
        var t0 = await SeedListingAsync(store);
        Clock.SetUtcNow(t0.AddSeconds(10));
        await UpdateAsync(store, (await store.GetRequiredWorkflowAsync("c-waiting")) with { Metadata = Json("1") });
        Clock.SetUtcNow(t0.AddSeconds(11));
        await UpdateAsync(store, (await store.GetRequiredWorkflowAsync("e-failed")) with { Metadata = Json("2") });

        var first = await store.ListWorkflowsAsync(new WorkflowQuery { UpdatedFrom = t0.AddSeconds(10), UpdatedTo = t0.AddSeconds(11) });
        var both = await store.ListWorkflowsAsync(new WorkflowQuery { UpdatedFrom = t0.AddSeconds(10) });
        var untouched = await store.ListWorkflowsAsync(new WorkflowQuery { UpdatedTo = t0.AddSeconds(10) });

        Assert.Equal(["c-waiting"], first.Items.Select(w => w.Id));
        Assert.Equal(["c-waiting", "e-failed"], both.Items.Select(w => w.Id));
        Assert.Equal(["a-pending", "b-running", "d-completed", "f-cancelled"], untouched.Items.Select(w => w.Id));
    }

    [StoreFact]
    public async Task ListWorkflowsAsync_SeveralFilters_AllMustHold()
    {
        var store = await CreateStoreAsync();
        var t0 = await SeedListingAsync(store);

        var page = await store.ListWorkflowsAsync(new WorkflowQuery
        {
            Types = ["alpha", "beta"],
            Statuses = [WorkflowStatus.Waiting, WorkflowStatus.Completed, WorkflowStatus.Cancelled],
            ParentId = "a-pending",
            CreatedFrom = t0.AddSeconds(2),
        });

        Assert.Equal(["d-completed"], page.Items.Select(w => w.Id));
    }

    [StoreFact]
    public async Task ListWorkflowsAsync_ArchivedWorkflow_ListedOnlyWithIncludeArchived()
    {
        var store = await CreateStoreAsync();
        var done = await InsertAsync(store, "done");
        await MoveAsync(store, done, WorkflowStatus.Running, WorkflowStatus.Completed);
        await InsertAsync(store, "open");
        Clock.Advance(TimeSpan.FromHours(1));
        Assert.Equal(1, await store.ArchiveWorkflowsAsync(Now));

        var visible = await store.ListWorkflowsAsync(new WorkflowQuery());
        var all = await store.ListWorkflowsAsync(new WorkflowQuery { IncludeArchived = true });
        var completed = await store.ListWorkflowsAsync(new WorkflowQuery { Statuses = [WorkflowStatus.Completed] });
        var completedAll = await store.ListWorkflowsAsync(new WorkflowQuery { Statuses = [WorkflowStatus.Completed], IncludeArchived = true });

        Assert.Equal(["open"], visible.Items.Select(w => w.Id));
        Assert.Equal(["done", "open"], all.Items.Select(w => w.Id));
        Assert.Empty(completed.Items);
        var archived = Assert.Single(completedAll.Items);
        Assert.NotNull(archived.ArchivedAt);
    }

    [StoreFact]
    public async Task ListWorkflowsAsync_PagingOldestFirst_VisitsEachWorkflowOnceInOrder()
    {
        var store = await CreateStoreAsync();
        var expected = await SeedPagingAsync(store);

        var (items, pageSizes) = await ListAllPagesAsync(store, new WorkflowQuery { Limit = 7 });

        Assert.Equal([7, 7, 7, 4], pageSizes);
        Assert.Equal(expected, items.Select(w => w.Id));
    }

    [StoreFact]
    public async Task ListWorkflowsAsync_PagingNewestFirst_VisitsEachWorkflowOnceInOrder()
    {
        var store = await CreateStoreAsync();
        var expected = await SeedPagingAsync(store);
        expected.Reverse();

        var (items, pageSizes) = await ListAllPagesAsync(store, new WorkflowQuery { Limit = 7, Order = ListOrder.NewestFirst });

        Assert.Equal([7, 7, 7, 4], pageSizes);
        Assert.Equal(expected, items.Select(w => w.Id));
    }

    [StoreFact]
    public async Task ListWorkflowsAsync_ChangesBetweenPages_WorkflowsPresentThroughoutSeenExactlyOnce()
    {
        var store = await CreateStoreAsync();
        var t0 = await SeedListingAsync(store);
        var first = await store.ListWorkflowsAsync(new WorkflowQuery { Limit = 3 });

        // An older workflow appears before the next page is read: nothing already listed comes again.
        await InsertAsync(store, NewWorkflow("0-earlier") with { CreatedAt = t0.AddSeconds(-10), UpdatedAt = t0.AddSeconds(-10) });
        var afterInsert = await ListAllPagesAsync(store, new WorkflowQuery { Limit = 3, PageToken = first.NextPageToken });

        // Listed workflows disappear before the next page is read: nothing not yet listed is skipped.
        var again = await store.ListWorkflowsAsync(new WorkflowQuery { Limit = 3 });
        Assert.True(await store.DeleteWorkflowAsync("0-earlier"));
        Assert.True(await store.DeleteWorkflowAsync("a-pending"));
        var afterDelete = await ListAllPagesAsync(store, new WorkflowQuery { Limit = 3, PageToken = again.NextPageToken });

        Assert.Equal(["a-pending", "b-running", "c-waiting"], first.Items.Select(w => w.Id));
        Assert.Equal(["d-completed", "e-failed", "f-cancelled"], afterInsert.Items.Select(w => w.Id));
        Assert.Equal(["0-earlier", "a-pending", "b-running"], again.Items.Select(w => w.Id));
        Assert.Equal(["c-waiting", "d-completed", "e-failed", "f-cancelled"], afterDelete.Items.Select(w => w.Id));
    }

    [StoreFact]
    public async Task ListWorkflowsAsync_PagingWithFilter_KeepsFilterOnEveryPage()
    {
        var store = await CreateStoreAsync();
        var ids = await SeedPagingAsync(store);
        var expected = ids.Where(id => int.Parse(id[1..], System.Globalization.CultureInfo.InvariantCulture) % 2 == 0).ToList();

        var (items, pageSizes) = await ListAllPagesAsync(store, new WorkflowQuery { Limit = 4, Types = ["even"] });

        Assert.Equal(13, expected.Count);
        Assert.Equal([4, 4, 4, 1], pageSizes);
        Assert.Equal(expected, items.Select(w => w.Id));
    }

    [StoreFact]
    public async Task ListWorkflowsAsync_Limit_ReturnsAtMostLimitWithNextToken()
    {
        var store = await CreateStoreAsync();
        await SeedListingAsync(store);

        var first = await store.ListWorkflowsAsync(new WorkflowQuery { Limit = 2 });
        var rest = await store.ListWorkflowsAsync(new WorkflowQuery { Limit = 10, PageToken = first.NextPageToken });

        Assert.Equal(["a-pending", "b-running"], first.Items.Select(w => w.Id));
        Assert.NotNull(first.NextPageToken);
        Assert.Equal(["c-waiting", "d-completed", "e-failed", "f-cancelled"], rest.Items.Select(w => w.Id));
        Assert.Null(rest.NextPageToken);
    }

    [StoreFact]
    public async Task ListWorkflowsAsync_EmptyStore_ReturnsEmptyPageWithoutToken()
    {
        var store = await CreateStoreAsync();

        var page = await store.ListWorkflowsAsync(new WorkflowQuery { IncludeArchived = true });

        Assert.Empty(page.Items);
        Assert.Null(page.NextPageToken);
    }

    [StoreFact]
    public async Task ListActiveWorkflowsAsync_MixedStatuses_ReturnsPendingRunningWaitingOldestFirst()
    {
        var store = await CreateStoreAsync();
        await SeedListingAsync(store);

        var active = await store.ListActiveWorkflowsAsync();

        Assert.Equal(["a-pending", "b-running", "c-waiting"], active.Select(w => w.Id));
    }

    [StoreFact]
    public async Task GetDueWorkflowsAsync_MixedWorkflows_ReturnsDueNonTerminalEarliestFirst()
    {
        var store = await CreateStoreAsync();
        await SeedDueAsync(store);

        var due = await store.GetDueWorkflowsAsync(Now, 100);

        Assert.Equal(["due-3m-ago", "due-1m-ago-leased", "due-now"], due.Select(w => w.Id));
        Assert.Equal(due.Select(w => w.Id), (await store.GetDueWorkflowsAsync(Now.ToOffset(TimeSpan.FromHours(-5)), 100)).Select(w => w.Id));
        RecordAssert.Same(await store.GetRequiredWorkflowAsync("due-1m-ago-leased"), due[1]);
    }

    [StoreFact]
    public async Task GetDueWorkflowsAsync_Limit_ReturnsEarliestOnly()
    {
        var store = await CreateStoreAsync();
        await SeedDueAsync(store);

        var due = await store.GetDueWorkflowsAsync(Now, 2);

        Assert.Equal(["due-3m-ago", "due-1m-ago-leased"], due.Select(w => w.Id));
    }

    [StoreFact]
    public async Task GetDueWorkflowsAsync_BeforeAnythingIsDue_ReturnsEmpty()
    {
        var store = await CreateStoreAsync();
        await SeedDueAsync(store);

        Assert.Empty(await store.GetDueWorkflowsAsync(Now.AddMinutes(-4), 100));
        Assert.Equal(["due-3m-ago"], (await store.GetDueWorkflowsAsync(Now.AddMinutes(-3), 100)).Select(w => w.Id));
    }

    /// <summary>
    /// Six workflows: a-pending (alpha) and b-running (beta) at t0 (b inserted first), c-waiting (alpha, child of a)
    /// at t0+1s, d-completed (beta, child of a) at t0+2s, e-failed (gamma) at t0+3s, f-cancelled (alpha, child of b) at t0+4s.
    /// </summary>
    private async Task<DateTimeOffset> SeedListingAsync(IRatchetStore store)
    {
        var t0 = Now;
        async Task AddAsync(string id, string type, WorkflowStatus status, int second, string? parent = null)
        {
            Clock.SetUtcNow(t0.AddSeconds(second));
            var terminal = status.IsTerminal();
            await InsertAsync(store, NewWorkflow(id, type) with
            {
                Status = status,
                WaitReason = status == WorkflowStatus.Waiting ? WaitReason.Signal : WaitReason.None,
                ParentId = parent,
                CompletedAt = terminal ? Now : null,
                DueAt = terminal ? null : Now,
            });
        }

        await AddAsync("b-running", "beta", WorkflowStatus.Running, 0);
        await AddAsync("a-pending", "alpha", WorkflowStatus.Pending, 0);
        await AddAsync("c-waiting", "alpha", WorkflowStatus.Waiting, 1, parent: "a-pending");
        await AddAsync("d-completed", "beta", WorkflowStatus.Completed, 2, parent: "a-pending");
        await AddAsync("e-failed", "gamma", WorkflowStatus.Failed, 3);
        await AddAsync("f-cancelled", "alpha", WorkflowStatus.Cancelled, 4, parent: "b-running");
        Clock.SetUtcNow(t0.AddSeconds(5));
        return t0;
    }

    /// <summary>25 workflows p00..p24, three to a creation time, inserted out of order; returns the ids oldest first.</summary>
    private async Task<List<string>> SeedPagingAsync(IRatchetStore store)
    {
        var t0 = Now;
        var records = new List<WorkflowRecord>();
        for (var i = 0; i < 25; i++)
        {
            var id = $"p{(i * 7) % 25:D2}";
            var created = t0.AddSeconds(i / 3);
            records.Add(NewWorkflow(id, int.Parse(id[1..], System.Globalization.CultureInfo.InvariantCulture) % 2 == 0 ? "even" : "odd") with
            {
                CreatedAt = created,
                UpdatedAt = created,
            });
        }

        foreach (var record in records.OrderByDescending(r => r.Id, StringComparer.Ordinal))
        {
            // Out of order, so back and forth in time: AdjustTime sets the clock either way (SetUtcNow only moves forward).
            Clock.AdjustTime(record.CreatedAt);
            await InsertAsync(store, record);
        }

        Clock.SetUtcNow(t0.AddMinutes(1));
        return records.OrderBy(r => r.CreatedAt).ThenBy(r => r.Id, StringComparer.Ordinal).Select(r => r.Id).ToList();
    }

    /// <summary>
    /// Due now or earlier and active: due-3m-ago (Pending), due-1m-ago-leased (Running, leased), due-now (Waiting).
    /// Not due: due-in-1m, no-due-time, completed-with-due-time, archived-with-due-time.
    /// </summary>
    private async Task SeedDueAsync(IRatchetStore store)
    {
        Clock.Advance(TimeSpan.FromHours(1));
        var now = Now;
        await InsertAsync(store, NewWorkflow("due-now") with { Status = WorkflowStatus.Waiting, WaitReason = WaitReason.Timer, DueAt = now });
        await InsertAsync(store, NewWorkflow("due-in-1m") with { DueAt = now.AddMinutes(1) });
        await InsertAsync(store, NewWorkflow("no-due-time") with { Status = WorkflowStatus.Waiting, WaitReason = WaitReason.Approval, DueAt = null });
        await InsertAsync(store, NewWorkflow("completed-with-due-time") with
        {
            Status = WorkflowStatus.Completed,
            DueAt = now.AddMinutes(-10),
            CompletedAt = now.AddMinutes(-10),
        });
        await InsertAsync(store, NewWorkflow("archived-with-due-time") with
        {
            Status = WorkflowStatus.Failed,
            DueAt = now.AddMinutes(-20),
            CompletedAt = now.AddDays(-2),
        });
        await InsertAsync(store, NewWorkflow("due-1m-ago-leased") with
        {
            Status = WorkflowStatus.Running,
            DueAt = now.AddMinutes(-1),
            LeaseOwner = "someone",
            LeaseExpiresAt = now.AddMinutes(5),
        });
        await InsertAsync(store, NewWorkflow("due-3m-ago") with { DueAt = now.AddMinutes(-3) });
        Assert.Equal(1, await store.ArchiveWorkflowsAsync(now.AddDays(-1)));
    }
}
