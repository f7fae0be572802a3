using System.Text.Json;
using Microsoft.Extensions.Time.Testing;
using Ratchet.Storage;
using Xunit;

namespace Ratchet.Conformance;

/// <summary>Change sets: atomicity, versions and conflicts, conditions, leases on writes, transactions, exact round trips.</summary>
public abstract class ChangeSetConformanceTests<TFactory> : StoreConformanceTests<TFactory>
    where TFactory : StoreFactory, new()
{
    [StoreFact]
    public async Task CommitAsync_Update_IncrementsVersionByOne()
    {
        var store = await CreateStoreAsync();
        var record = await InsertAsync(store, "wf-1");

        var versions = new List<long> { record.Version };
        for (var i = 0; i < 3; i++)
        {
            record = await UpdateAsync(store, record with { Attempt = i + 1 });
            versions.Add(record.Version);
        }

        Assert.Equal([1, 2, 3, 4], versions);
        Assert.Equal(3, record.Attempt);
    }

    [StoreFact]
    public async Task CommitAsync_StaleVersion_ThrowsConcurrencyWithBothVersions()
    {
        var store = await CreateStoreAsync();
        var original = await InsertAsync(store, "wf-1");
        var winner = await UpdateAsync(store, original with { CurrentNode = "winner" });

        var error = await Assert.ThrowsAsync<WorkflowConcurrencyException>(
            () => store.CommitAsync(new ChangeSet().UpdateWorkflow(original with { CurrentNode = "loser" })));

        Assert.Equal("wf-1", error.WorkflowId);
        Assert.Equal(1, error.ExpectedVersion);
        Assert.Equal(2, error.ActualVersion);
        Assert.Equal("version-conflict", error.ErrorCode);
        RecordAssert.Same(winner, await store.GetRequiredWorkflowAsync("wf-1"));
    }

    [StoreFact]
    public async Task CommitAsync_FutureVersion_ThrowsConcurrency()
    {
        var store = await CreateStoreAsync();
        var record = await InsertAsync(store, "wf-1");

        var error = await Assert.ThrowsAsync<WorkflowConcurrencyException>(
            () => store.CommitAsync(new ChangeSet().UpdateWorkflow(record with { Version = 5 })));

        Assert.Equal(5, error.ExpectedVersion);
        Assert.Equal(1, error.ActualVersion);
        Assert.Equal(1, (await store.GetRequiredWorkflowAsync("wf-1")).Version);
    }

    [StoreFact]
    public async Task CommitAsync_StaleVersion_LeavesNothingOfTheChangeSet()
    {
        var store = await CreateStoreAsync();
        var stale = await InsertAsync(store, "wf-1");
        await InsertAsync(store, "wf-2");
        var winner = await UpdateAsync(store, stale with { CurrentNode = "winner" });
        var before = await ExportTextAsync(store);

        // The stale update comes last, so a store that applies writes in order must undo the ones before it.
        var changes = new ChangeSet()
            .CreateWorkflow(NewWorkflow("wf-new"))
            .AppendEvent(NewEvent("wf-new", AuditEventTypes.Created))
            .AppendEvent(NewEvent("wf-2", "note"))
            .AppendStep(NewStep("wf-2", "plan"))
            .RecordCommand(NewCommand("wf-2", "make"))
            .PutWorkspace(NewWorkspace("wf-2"))
            .SaveValue("ns", "key", Json("1"))
            .UpdateWorkflow((await store.GetRequiredWorkflowAsync("wf-2")) with { CurrentNode = "moved" })
            .UpdateWorkflow(stale with { CurrentNode = "loser" });

        await Assert.ThrowsAsync<WorkflowConcurrencyException>(() => store.CommitAsync(changes));

        Assert.Null(await store.GetWorkflowAsync("wf-new"));
        Assert.Empty(await store.GetEventsAsync("wf-new"));
        Assert.Empty(await store.GetEventsAsync("wf-2"));
        Assert.Empty(await store.GetStepsAsync("wf-2"));
        Assert.Empty(await store.GetCommandsAsync("wf-2"));
        Assert.Null(await store.GetWorkspaceAsync("wf-2"));
        Assert.Null(await store.GetValueAsync("ns", "key"));
        Assert.Equal(1, (await store.GetRequiredWorkflowAsync("wf-2")).Version);
        RecordAssert.Same(winner, await store.GetRequiredWorkflowAsync("wf-1"));
        Assert.Equal(before, await ExportTextAsync(store));
    }

    [StoreFact]
    public async Task CommitAsync_DuplicateCreate_ThrowsAlreadyExistsAndLeavesNothing()
    {
        var store = await CreateStoreAsync();
        var existing = await InsertAsync(store, NewWorkflow("taken", "original"));
        await InsertAsync(store, "other");
        var before = await ExportTextAsync(store);

        var changes = new ChangeSet()
            .AppendEvent(NewEvent("other", "note"))
            .SaveValue("ns", "key", Json("\"v\""))
            .CreateWorkflow(NewWorkflow("fresh"))
            .CreateWorkflow(NewWorkflow("taken", "impostor"))
            .AppendEvent(NewEvent("taken", AuditEventTypes.Created));

        var error = await Assert.ThrowsAsync<WorkflowAlreadyExistsException>(() => store.CommitAsync(changes));

        Assert.Equal("taken", error.WorkflowId);
        RecordAssert.Same(existing, await store.GetRequiredWorkflowAsync("taken"));
        Assert.Null(await store.GetWorkflowAsync("fresh"));
        Assert.Empty(await store.GetEventsAsync("taken"));
        Assert.Empty(await store.GetEventsAsync("other"));
        Assert.Null(await store.GetValueAsync("ns", "key"));
        Assert.Equal(before, await ExportTextAsync(store));
    }

    [StoreFact]
    public async Task CommitAsync_CreateWithEventsAndRecords_AppliesEverything()
    {
        var store = await CreateStoreAsync();

        await store.CommitAsync(new ChangeSet()
            .CreateWorkflow(NewWorkflow("wf-1"))
            .AppendEvent(NewEvent("wf-1", AuditEventTypes.Created))
            .AppendStep(NewStep("wf-1", "plan"))
            .RecordCommand(NewCommand("wf-1", "make"))
            .PutWorkspace(NewWorkspace("wf-1"))
            .SaveValue("wf-1", "state", Json("""{"k":1}""")));

        Assert.Equal(1, (await store.GetRequiredWorkflowAsync("wf-1")).Version);
        Assert.Single(await store.GetEventsAsync("wf-1"));
        Assert.Single(await store.GetStepsAsync("wf-1"));
        Assert.Single(await store.GetCommandsAsync("wf-1"));
        Assert.NotNull(await store.GetWorkspaceAsync("wf-1"));
        Assert.Equal(1, (await store.GetValueAsync("wf-1", "state"))?.Version);
    }

    [StoreFact]
    public async Task CommitAsync_RecordsAddedBeforeTheirWorkflowsCreate_Commits()
    {
        // WorkflowCreator relies on this: a store applies workflow writes before the records that belong to them.
        var store = await CreateStoreAsync();

        await store.CommitAsync(new ChangeSet()
            .AppendEvent(NewEvent("wf-1", AuditEventTypes.Created))
            .AppendStep(NewStep("wf-1", "plan"))
            .RecordCommand(NewCommand("wf-1", "make"))
            .PutWorkspace(NewWorkspace("wf-1"))
            .CreateWorkflow(NewWorkflow("wf-1")));

        Assert.Equal(1, (await store.GetRequiredWorkflowAsync("wf-1")).Version);
        Assert.Single(await store.GetEventsAsync("wf-1"));
        Assert.Single(await store.GetStepsAsync("wf-1"));
        Assert.Single(await store.GetCommandsAsync("wf-1"));
        Assert.NotNull(await store.GetWorkspaceAsync("wf-1"));
    }

    [StoreFact]
    public async Task CommitAsync_CreateAndUpdateSameWorkflowInOneChangeSet_EndsAtVersion2()
    {
        var store = await CreateStoreAsync();
        var record = NewWorkflow("wf-1");

        await store.CommitAsync(new ChangeSet()
            .CreateWorkflow(record)
            .UpdateWorkflow(record.TransitionTo(WorkflowStatus.Running, Now) with { Version = 1 }));

        var stored = await store.GetRequiredWorkflowAsync("wf-1");
        Assert.Equal(2, stored.Version);
        Assert.Equal(WorkflowStatus.Running, stored.Status);
    }

    [StoreFact]
    public async Task CommitAsync_ExpectWorkflowVersionCurrent_Commits()
    {
        var store = await CreateStoreAsync();
        var checkedRecord = await InsertAsync(store, "checked");
        await InsertAsync(store, "written");

        await store.CommitAsync(new ChangeSet()
            .ExpectWorkflowVersion("checked", checkedRecord.Version)
            .ExpectWorkflowVersion("absent", 0)
            .AppendEvent(NewEvent("written", "note")));

        Assert.Single(await store.GetEventsAsync("written"));
        Assert.Equal(1, (await store.GetRequiredWorkflowAsync("checked")).Version);
    }

    [StoreFact]
    public async Task CommitAsync_ExpectWorkflowVersionStale_ThrowsAndLeavesNothing()
    {
        var store = await CreateStoreAsync();
        var checkedRecord = await InsertAsync(store, "checked");
        await UpdateAsync(store, checkedRecord with { CurrentNode = "moved-on" });
        await InsertAsync(store, "written");

        var error = await Assert.ThrowsAsync<WorkflowConcurrencyException>(() => store.CommitAsync(new ChangeSet()
            .AppendEvent(NewEvent("written", "note"))
            .SaveValue("ns", "k", Json("1"))
            .ExpectWorkflowVersion("checked", 1)));

        Assert.Equal("checked", error.WorkflowId);
        Assert.Equal(1, error.ExpectedVersion);
        Assert.Equal(2, error.ActualVersion);
        Assert.Empty(await store.GetEventsAsync("written"));
        Assert.Null(await store.GetValueAsync("ns", "k"));
    }

    [StoreFact]
    public async Task CommitAsync_ExpectWorkflowVersionZeroButExists_ThrowsConcurrency()
    {
        var store = await CreateStoreAsync();
        await InsertAsync(store, "exists");

        var error = await Assert.ThrowsAsync<WorkflowConcurrencyException>(() => store.CommitAsync(new ChangeSet()
            .ExpectWorkflowVersion("exists", 0)
            .SaveValue("ns", "k", Json("1"))));

        Assert.Equal(0, error.ExpectedVersion);
        Assert.Equal(1, error.ActualVersion);
        Assert.Null(await store.GetValueAsync("ns", "k"));
    }

    [StoreFact]
    public async Task CommitAsync_ExpectWorkflowVersionOfMissingWorkflow_ThrowsNotFound()
    {
        var store = await CreateStoreAsync();

        var error = await Assert.ThrowsAsync<WorkflowNotFoundException>(() => store.CommitAsync(new ChangeSet()
            .ExpectWorkflowVersion("missing", 3)
            .SaveValue("ns", "k", Json("1"))));

        Assert.Equal("missing", error.WorkflowId);
        Assert.Null(await store.GetValueAsync("ns", "k"));
    }

    [StoreFact]
    public async Task CommitAsync_ChecksThenWritesSameWorkflow_Commits()
    {
        var store = await CreateStoreAsync();
        var record = await InsertAsync(store, "wf-1");

        await store.CommitAsync(new ChangeSet()
            .ExpectWorkflowVersion("wf-1", 1)
            .UpdateWorkflow(record with { CurrentNode = "next" }));

        Assert.Equal(2, (await store.GetRequiredWorkflowAsync("wf-1")).Version);
    }

    [StoreFact]
    public async Task CommitAsync_ExpectAbsentThenCreateSameWorkflow_Commits()
    {
        var store = await CreateStoreAsync();

        await store.CommitAsync(new ChangeSet()
            .ExpectWorkflowVersion("wf-1", 0)
            .CreateWorkflow(NewWorkflow("wf-1"))
            .ExpectValueVersion("ns", "k", 0)
            .SaveValue("ns", "k", Json("1"), expectedVersion: 0));

        Assert.Equal(1, (await store.GetRequiredWorkflowAsync("wf-1")).Version);
        Assert.Equal(1, (await store.GetValueAsync("ns", "k"))?.Version);
        await Assert.ThrowsAsync<WorkflowConcurrencyException>(() => store.CommitAsync(new ChangeSet()
            .ExpectWorkflowVersion("wf-1", 0)
            .CreateWorkflow(NewWorkflow("wf-2"))));
        Assert.Null(await store.GetWorkflowAsync("wf-2"));
    }

    [StoreFact]
    public async Task CommitAsync_ExpectValueVersionCurrentOrAbsent_Commits()
    {
        var store = await CreateStoreAsync();
        var entry = await SaveAsync(store, "ns", "read", "1");
        await SaveAsync(store, "ns", "read", "2");

        await store.CommitAsync(new ChangeSet()
            .ExpectValueVersion("ns", "read", 2)
            .ExpectValueVersion("ns", "absent", 0)
            .SaveValue("ns", "written", Json("3")));

        Assert.Equal(1, entry.Version);
        Assert.Equal(1, (await store.GetValueAsync("ns", "written"))?.Version);
        Assert.Equal(2, (await store.GetValueAsync("ns", "read"))?.Version);
    }

    [StoreFact]
    public async Task CommitAsync_ExpectValueVersionStale_ThrowsWithBothVersionsAndLeavesNothing()
    {
        var store = await CreateStoreAsync();
        await SaveAsync(store, "ns", "read", "1");
        await SaveAsync(store, "ns", "read", "2");
        await InsertAsync(store, "wf-1");

        var error = await Assert.ThrowsAsync<KeyValueConcurrencyException>(() => store.CommitAsync(new ChangeSet()
            .SaveValue("ns", "written", Json("3"))
            .AppendEvent(NewEvent("wf-1", "note"))
            .ExpectValueVersion("ns", "read", 1)));

        Assert.Equal("ns", error.Namespace);
        Assert.Equal("read", error.Key);
        Assert.Equal(1, error.ExpectedVersion);
        Assert.Equal(2, error.ActualVersion);
        Assert.Equal("version-conflict", error.ErrorCode);
        Assert.Null(await store.GetValueAsync("ns", "written"));
        Assert.Empty(await store.GetEventsAsync("wf-1"));
    }

    [StoreFact]
    public async Task CommitAsync_ExpectValueVersionZeroButPresent_ThrowsWithActualVersion()
    {
        var store = await CreateStoreAsync();
        await SaveAsync(store, "ns", "present", "1");

        var error = await Assert.ThrowsAsync<KeyValueConcurrencyException>(
            () => store.CommitAsync(new ChangeSet().ExpectValueVersion("ns", "present", 0).SaveValue("ns", "other", Json("1"))));

        Assert.Equal(0, error.ExpectedVersion);
        Assert.Equal(1, error.ActualVersion);
        Assert.Null(await store.GetValueAsync("ns", "other"));
    }

    [StoreFact]
    public async Task CommitAsync_ExpectValueVersionOfMissingKey_ThrowsWithActualZero()
    {
        var store = await CreateStoreAsync();

        var error = await Assert.ThrowsAsync<KeyValueConcurrencyException>(
            () => store.CommitAsync(new ChangeSet().ExpectValueVersion("ns", "gone", 4).SaveValue("ns", "other", Json("1"))));

        Assert.Equal(4, error.ExpectedVersion);
        Assert.Equal(0, error.ActualVersion);
        Assert.Null(await store.GetValueAsync("ns", "other"));
    }

    [StoreFact]
    public async Task CommitAsync_UpdateOfMissingWorkflow_ThrowsNotFoundAndLeavesNothing()
    {
        var store = await CreateStoreAsync();
        var ghost = NewWorkflow("ghost") with { Version = 1 };

        var error = await Assert.ThrowsAsync<WorkflowNotFoundException>(
            () => store.CommitAsync(new ChangeSet().SaveValue("ns", "k", Json("1")).UpdateWorkflow(ghost)));

        Assert.Equal("ghost", error.WorkflowId);
        Assert.Equal("workflow-not-found", error.ErrorCode);
        Assert.Null(await store.GetWorkflowAsync("ghost"));
        Assert.Null(await store.GetValueAsync("ns", "k"));
    }

    [StoreFact]
    public async Task CommitAsync_RecordsForMissingWorkflow_ThrowNotFoundAndLeaveNothing()
    {
        var store = await CreateStoreAsync();
        await InsertAsync(store, "real");
        var attempts = new (string What, ChangeSet Changes)[]
        {
            ("event", new ChangeSet().AppendEvent(NewEvent("ghost", "note"))),
            ("step", new ChangeSet().AppendStep(NewStep("ghost", "plan"))),
            ("command", new ChangeSet().RecordCommand(NewCommand("ghost", "make"))),
            ("workspace", new ChangeSet().PutWorkspace(NewWorkspace("ghost"))),
        };

        foreach (var (what, changes) in attempts)
        {
            changes.AppendEvent(NewEvent("real", what)).SaveValue("ns", what, Json("1"));
            var error = await Assert.ThrowsAsync<WorkflowNotFoundException>(() => store.CommitAsync(changes));
            Assert.Equal("ghost", error.WorkflowId);
            Assert.Null(await store.GetValueAsync("ns", what));
        }

        Assert.Empty(await store.GetEventsAsync("real"));
        Assert.Empty(await store.GetEventsAsync("ghost"));
        Assert.Empty(await store.GetStepsAsync("ghost"));
        Assert.Empty(await store.GetCommandsAsync("ghost"));
        Assert.Null(await store.GetWorkspaceAsync("ghost"));
        Assert.Empty(await store.ListWorkspacesAsync());
    }

    [StoreFact]
    public async Task CommitAsync_UpdateWorkflowWithKeepLease_LeaseUnmoved()
    {
        var store = await CreateStoreAsync();
        await InsertAsync(store, "wf-1");
        var claimed = await store.ClaimWorkflowAsync("wf-1", "worker-a", TimeSpan.FromMinutes(5));
        Assert.NotNull(claimed);

        // The record carries other lease values: an ordinary write must not move the lease.
        Clock.Advance(TimeSpan.FromSeconds(10));
        var updated = await UpdateAsync(store, claimed with
        {
            CurrentNode = "next",
            LeaseOwner = "someone-else",
            LeaseExpiresAt = Now.AddDays(1),
        });

        Assert.Equal("next", updated.CurrentNode);
        Assert.Equal("worker-a", updated.LeaseOwner);
        RecordAssert.Utc(TestClock.Start.AddMinutes(5), updated.LeaseExpiresAt);
        Assert.Equal(claimed.Version + 1, updated.Version);

        var cleared = await UpdateAsync(store, updated with { LeaseOwner = null, LeaseExpiresAt = null });
        Assert.Equal("worker-a", cleared.LeaseOwner);
        Assert.NotNull(cleared.LeaseExpiresAt);
    }

    [StoreFact]
    public async Task CommitAsync_UpdateWorkflowWithReleaseLease_ClearsLease()
    {
        var store = await CreateStoreAsync();
        await InsertAsync(store, "wf-1");
        var claimed = await store.ClaimWorkflowAsync("wf-1", "worker-a", TimeSpan.FromMinutes(5));
        Assert.NotNull(claimed);

        var released = await UpdateAsync(store, claimed with { CurrentNode = "done-for-now" }, LeaseAction.Release);

        Assert.Null(released.LeaseOwner);
        Assert.Null(released.LeaseExpiresAt);
        Assert.Equal("done-for-now", released.CurrentNode);
        Assert.Equal(claimed.Version + 1, released.Version);
        var other = await store.ClaimWorkflowAsync("wf-1", "worker-b", TimeSpan.FromMinutes(5));
        Assert.Equal("worker-b", other?.LeaseOwner);
    }

    [StoreFact]
    public async Task TransactionAsync_ReadsAndWrites_CommitsAtomically()
    {
        var store = await CreateStoreAsync();
        await InsertAsync(store, "wf-1");
        await SaveAsync(store, "ns", "counter", "41");

        var result = await store.TransactionAsync(async (tx, ct) =>
        {
            var workflow = await tx.GetWorkflowAsync("wf-1", ct);
            var counter = await tx.GetValueAsync("ns", "counter", ct);
            var next = counter!.Value.GetInt32() + 1;
            tx.UpdateWorkflow(workflow! with { CurrentNode = "counted" })
                .CreateWorkflow(NewWorkflow("wf-2"))
                .AppendEvent(NewEvent("wf-1", "counted", Json(next.ToString(System.Globalization.CultureInfo.InvariantCulture))))
                .SaveValue("ns", "counter", Json(next.ToString(System.Globalization.CultureInfo.InvariantCulture)))
                .DeleteValue("ns", "absent");
            return next;
        });

        Assert.Equal(42, result);
        Assert.Equal("counted", (await store.GetRequiredWorkflowAsync("wf-1")).CurrentNode);
        Assert.Equal(2, (await store.GetRequiredWorkflowAsync("wf-1")).Version);
        Assert.NotNull(await store.GetWorkflowAsync("wf-2"));
        Assert.Single(await store.GetEventsAsync("wf-1"));
        var counterEntry = await store.GetValueAsync("ns", "counter");
        Assert.Equal(42, counterEntry?.Value.GetInt32());
        Assert.Equal(2, counterEntry?.Version);
    }

    [StoreFact]
    public async Task TransactionAsync_ConflictOnFirstAttempt_RetriesOnFreshDataWithoutLostUpdate()
    {
        var store = await CreateStoreAsync();
        await InsertAsync(store, "wf-1");
        await SaveAsync(store, "ns", "counter", "0");
        var attempts = 0;

        await store.TransactionAsync(async (tx, ct) =>
        {
            attempts++;
            var workflow = await tx.GetWorkflowAsync("wf-1", ct);
            var counter = (await tx.GetValueAsync("ns", "counter", ct))!.Value.GetInt32();
            if (tx.Attempt == 1)
            {
                // Someone else commits in between this read and the transaction's commit.
                await store.CommitAsync(new ChangeSet()
                    .UpdateWorkflow(workflow! with { Metadata = Json("""{"by":"other"}""") })
                    .SaveValue("ns", "counter", Json("100")), ct);
            }

            tx.UpdateWorkflow(workflow! with { CurrentNode = $"attempt-{tx.Attempt}" })
                .AppendEvent(NewEvent("wf-1", $"attempt-{tx.Attempt}"))
                .SaveValue("ns", "counter", Json((counter + 1).ToString(System.Globalization.CultureInfo.InvariantCulture)));
        });

        Assert.Equal(2, attempts);
        var stored = await store.GetRequiredWorkflowAsync("wf-1");
        Assert.Equal("attempt-2", stored.CurrentNode);
        RecordAssert.JsonEqual(Json("""{"by":"other"}"""), stored.Metadata);
        Assert.Equal(3, stored.Version);
        Assert.Equal(101, (await store.GetValueAsync("ns", "counter"))?.Value.GetInt32());
        Assert.Equal(["attempt-2"], (await store.GetEventsAsync("wf-1")).Select(e => e.Type));
    }

    [StoreFact]
    public async Task TransactionAsync_ConflictOnEveryAttempt_ThrowsAfterMaxAttemptsAndLeavesNothing()
    {
        var store = await CreateStoreAsync();
        await InsertAsync(store, "wf-1");
        var attempts = 0;

        var error = await Assert.ThrowsAsync<WorkflowConcurrencyException>(() => store.TransactionAsync(async (tx, ct) =>
        {
            attempts++;
            var workflow = await tx.GetWorkflowAsync("wf-1", ct);
            await store.CommitAsync(new ChangeSet().UpdateWorkflow(workflow! with { Attempt = workflow.Attempt + 1 }), ct);
            tx.AppendEvent(NewEvent("wf-1", "never")).SaveValue("ns", "never", Json("1"));
        }, new TransactionOptions { MaxAttempts = 3 }));

        Assert.Equal(3, attempts);
        Assert.Equal("wf-1", error.WorkflowId);
        Assert.Empty(await store.GetEventsAsync("wf-1"));
        Assert.Null(await store.GetValueAsync("ns", "never"));
        Assert.Equal(4, (await store.GetRequiredWorkflowAsync("wf-1")).Version);
    }

    [StoreFact]
    public async Task TransactionAsync_ValueCreatedMeanwhile_RetriesAndSeesIt()
    {
        var store = await CreateStoreAsync();
        var attempts = 0;

        await store.TransactionAsync(async (tx, ct) =>
        {
            attempts++;
            var entry = await tx.GetValueAsync("ns", "lock", ct);
            if (entry is null && tx.Attempt == 1)
            {
                await store.SaveValueAsync("ns", "lock", Json("\"other\""), ct);
            }

            if (entry is null)
            {
                tx.SaveValue("ns", "lock", Json("\"mine\""));
            }
        });

        Assert.Equal(2, attempts);
        var stored = await store.GetValueAsync("ns", "lock");
        RecordAssert.JsonEqual(Json("\"other\""), stored?.Value);
        Assert.Equal(1, stored?.Version);
    }

    [StoreFact]
    public async Task TransactionAsync_WorkThrows_CommitsNothing()
    {
        var store = await CreateStoreAsync();
        await InsertAsync(store, "wf-1");

        await Assert.ThrowsAsync<InvalidOperationException>(() => store.TransactionAsync(async (tx, ct) =>
        {
            var workflow = await tx.GetWorkflowAsync("wf-1", ct);
            tx.UpdateWorkflow(workflow! with { CurrentNode = "half" }).SaveValue("ns", "k", Json("1"));
            throw new InvalidOperationException("the work failed");
        }));

        Assert.Equal(1, (await store.GetRequiredWorkflowAsync("wf-1")).Version);
        Assert.Null(await store.GetValueAsync("ns", "k"));
    }

    [StoreFact]
    public async Task CommitAsync_JsonValues_RoundTripExactly()
    {
        var store = await CreateStoreAsync();
        var workflow = SampleRecords.RichWorkflow("wf-json", Now);
        var step = SampleRecords.RichStep("wf-json", Now);
        var auditEvent = SampleRecords.RichEvent("wf-json", Now);
        var command = SampleRecords.RichCommand("wf-json", Now);

        await store.CommitAsync(new ChangeSet()
            .CreateWorkflow(workflow)
            .AppendStep(step)
            .AppendEvent(auditEvent)
            .AppendEvent(auditEvent with { Type = "no-payload", Payload = null, Node = null, Attempt = null })
            .RecordCommand(command)
            .SaveValue("json", "tricky", SampleRecords.Tricky)
            .SaveValue("json", "null", Json("null"))
            .SaveValue("json", "string", Json("\"é 漢字 😀 \\\"\""))
            .SaveValue("json", "number", Json("-0.000001234e-10"))
            .SaveValue("json", "array", Json("[]"))
            .SaveValue("json", "false", Json("false")));

        var stored = await store.GetRequiredWorkflowAsync("wf-json");
        RecordAssert.JsonEqual(workflow.Input, stored.Input);
        RecordAssert.JsonEqual(workflow.Metadata, stored.Metadata);
        Assert.Equal(workflow.Artifacts.Keys.Order(StringComparer.Ordinal), stored.Artifacts.Keys.Order(StringComparer.Ordinal));
        foreach (var (node, output) in workflow.Artifacts)
        {
            RecordAssert.JsonEqual(output, stored.Artifacts[node]);
        }

        Assert.Equal(workflow.Error, stored.Error);
        RecordAssert.Same(workflow with { Version = 1 }, stored);
        RecordAssert.Same(step with { Sequence = 1 }, Assert.Single(await store.GetStepsAsync("wf-json")));
        var events = await store.GetEventsAsync("wf-json");
        RecordAssert.SameSequence(
            [auditEvent with { Sequence = 1 }, auditEvent with { Sequence = 2, Type = "no-payload", Payload = null, Node = null, Attempt = null }],
            events);
        Assert.Null(events[1].Payload);
        RecordAssert.Same(command with { Sequence = 1 }, Assert.Single(await store.GetCommandsAsync("wf-json")));
        foreach (var (key, json) in new[]
        {
            ("tricky", SampleRecords.TrickyJson), ("null", "null"), ("string", "\"é 漢字 😀 \\\"\""),
            ("number", "-0.000001234e-10"), ("array", "[]"), ("false", "false"),
        })
        {
            var entry = await store.GetValueAsync("json", key);
            Assert.NotNull(entry);
            RecordAssert.JsonEqual(Json(json), entry.Value);
        }

        Assert.Equal(JsonValueKind.Null, (await store.GetValueAsync("json", "null"))?.Value.ValueKind);
    }

    [StoreFact]
    public async Task CommitAsync_TimesWithSubMicrosecondTicks_TruncatedToMicrosecondsInUtc()
    {
        // 00:00:00.1234567 and 7 ticks past a microsecond; also given in +02:00 to prove the store keeps UTC.
        var odd = TestClock.Start.AddTicks(1_234_567);
        var plus2 = odd.ToOffset(TimeSpan.FromHours(2));
        Clock.SetUtcNow(odd);
        var store = await CreateStoreAsync();
        var workflow = NewWorkflow("wf-time") with
        {
            CreatedAt = plus2,
            UpdatedAt = plus2,
            DueAt = plus2.AddDays(1).AddTicks(9),
            LeaseOwner = "w",
            LeaseExpiresAt = plus2.AddMinutes(1).AddTicks(3),
        };

        await store.CommitAsync(new ChangeSet()
            .CreateWorkflow(workflow)
            .AppendStep(NewStep("wf-time", "n") with { StartedAt = plus2.AddTicks(-5), FinishedAt = plus2.AddTicks(8) })
            .AppendEvent(NewEvent("wf-time") with { At = plus2.AddTicks(1) })
            .RecordCommand(NewCommand("wf-time", "x") with { StartedAt = plus2.AddTicks(2) })
            .PutWorkspace(NewWorkspace("wf-time") with { CreatedAt = plus2.AddTicks(4), HeartbeatAt = plus2.AddSeconds(1).AddTicks(6) }));

        var micro = StoreTime.Truncate(odd);
        Assert.Equal(1_234_560, micro.Ticks - TestClock.Start.Ticks);
        Assert.Equal(1_234_570, StoreTime.Truncate(odd.AddTicks(9)).Ticks - TestClock.Start.Ticks);
        var stored = await store.GetRequiredWorkflowAsync("wf-time");
        RecordAssert.Utc(micro, stored.CreatedAt);
        RecordAssert.Utc(micro, stored.UpdatedAt);
        RecordAssert.Utc(StoreTime.Truncate(odd.AddDays(1).AddTicks(9)), stored.DueAt);
        RecordAssert.Utc(StoreTime.Truncate(odd.AddMinutes(1).AddTicks(3)), stored.LeaseExpiresAt);
        var step = Assert.Single(await store.GetStepsAsync("wf-time"));
        RecordAssert.Utc(StoreTime.Truncate(odd.AddTicks(-5)), step.StartedAt);
        RecordAssert.Utc(StoreTime.Truncate(odd.AddTicks(8)), step.FinishedAt);
        RecordAssert.Utc(StoreTime.Truncate(odd.AddTicks(1)), Assert.Single(await store.GetEventsAsync("wf-time")).At);
        RecordAssert.Utc(StoreTime.Truncate(odd.AddTicks(2)), Assert.Single(await store.GetCommandsAsync("wf-time")).StartedAt);
        var workspace = await store.GetWorkspaceAsync("wf-time");
        RecordAssert.Utc(StoreTime.Truncate(odd.AddTicks(4)), workspace?.CreatedAt);
        RecordAssert.Utc(StoreTime.Truncate(odd.AddSeconds(1).AddTicks(6)), workspace?.HeartbeatAt);

        Clock.Advance(TimeSpan.FromTicks(5));
        var completed = await UpdateAsync(store, stored.TransitionTo(WorkflowStatus.Running, Now).TransitionTo(WorkflowStatus.Completed, Clock.GetUtcNow()));
        RecordAssert.Utc(StoreTime.Truncate(Clock.GetUtcNow()), completed.CompletedAt);
        await store.SaveValueAsync("ns", "k", Json("1"));
        RecordAssert.Utc(StoreTime.Truncate(Clock.GetUtcNow()), (await store.GetValueAsync("ns", "k"))?.UpdatedAt);
    }
}
