using Ratchet.Storage;
using Xunit;

namespace Ratchet.Conformance;

/// <summary>Leases: claiming due work, expiry and takeover, fencing by version, renew and release.</summary>
public abstract class LeaseConformanceTests<TFactory> : StoreConformanceTests<TFactory>
    where TFactory : StoreFactory, new()
{
    private static readonly TimeSpan LeaseDuration = TimeSpan.FromMinutes(5);

    [StoreFact]
    public async Task ClaimDueWorkflowsAsync_MixedWorkflows_ClaimsOnlyDueActiveOnes()
    {
        var store = await CreateStoreAsync();
        await SeedAsync(store);

        var claimed = await store.ClaimDueWorkflowsAsync(new LeaseRequest { Owner = "worker-a", Duration = LeaseDuration, MaxCount = 100 });

        Assert.Equal(["due-now", "due-past", "waiting-due"], claimed.Select(w => w.Id).Order(StringComparer.Ordinal));
        foreach (var workflow in claimed)
        {
            Assert.Equal("worker-a", workflow.LeaseOwner);
            RecordAssert.Utc(Now + LeaseDuration, workflow.LeaseExpiresAt);
            Assert.Equal(2, workflow.Version);
            RecordAssert.Same(workflow, await store.GetRequiredWorkflowAsync(workflow.Id));
        }

        foreach (var id in new[] { "due-later", "no-due", "completed" })
        {
            var untouched = await store.GetRequiredWorkflowAsync(id);
            Assert.Null(untouched.LeaseOwner);
            Assert.Equal(1, untouched.Version);
        }
    }

    [StoreFact]
    public async Task ClaimDueWorkflowsAsync_NothingDue_ClaimsNothing()
    {
        var store = await CreateStoreAsync();
        await InsertAsync(store, NewWorkflow("later") with { DueAt = Now.AddSeconds(1) });
        await InsertAsync(store, NewWorkflow("archived") with { Status = WorkflowStatus.Cancelled, CompletedAt = Now.AddDays(-1) });
        Assert.Equal(1, await store.ArchiveWorkflowsAsync(Now));

        var claimed = await store.ClaimDueWorkflowsAsync(new LeaseRequest { Owner = "worker-a", Duration = LeaseDuration });

        Assert.Empty(claimed);
        Assert.Equal(1, (await store.GetRequiredWorkflowAsync("later")).Version);
    }

    [StoreFact]
    public async Task ClaimDueWorkflowsAsync_MaxCount_TakesAtMostThatManyAndLeavesTheRest()
    {
        var store = await CreateStoreAsync();
        for (var i = 0; i < 5; i++)
        {
            await InsertAsync(store, NewWorkflow($"wf-{i}") with { DueAt = Now.AddSeconds(-i) });
        }

        var first = await store.ClaimDueWorkflowsAsync(new LeaseRequest { Owner = "worker-a", Duration = LeaseDuration, MaxCount = 2 });
        var second = await store.ClaimDueWorkflowsAsync(new LeaseRequest { Owner = "worker-a", Duration = LeaseDuration, MaxCount = 2 });
        var third = await store.ClaimDueWorkflowsAsync(new LeaseRequest { Owner = "worker-b", Duration = LeaseDuration, MaxCount = 2 });
        var fourth = await store.ClaimDueWorkflowsAsync(new LeaseRequest { Owner = "worker-b", Duration = LeaseDuration, MaxCount = 2 });

        Assert.Equal(2, first.Count);
        Assert.Equal(2, second.Count);
        Assert.Single(third);
        Assert.Empty(fourth);
        var all = first.Concat(second).Concat(third).Select(w => w.Id).ToList();
        Assert.Equal(["wf-0", "wf-1", "wf-2", "wf-3", "wf-4"], all.Order(StringComparer.Ordinal));
        Assert.All(third, w => Assert.Equal("worker-b", w.LeaseOwner));
    }

    [StoreFact]
    public async Task ClaimDueWorkflowsAsync_TypesFilter_ClaimsOnlyThoseTypes()
    {
        var store = await CreateStoreAsync();
        await InsertAsync(store, "build-1", "build");
        await InsertAsync(store, "deploy-1", "deploy");
        await InsertAsync(store, "review-1", "review");

        var claimed = await store.ClaimDueWorkflowsAsync(new LeaseRequest
        {
            Owner = "worker-a",
            Duration = LeaseDuration,
            Types = ["build", "review"],
        });
        var none = await store.ClaimDueWorkflowsAsync(new LeaseRequest { Owner = "worker-b", Duration = LeaseDuration, Types = ["other"] });

        Assert.Equal(["build-1", "review-1"], claimed.Select(w => w.Id).Order(StringComparer.Ordinal));
        var any = await store.ClaimDueWorkflowsAsync(new LeaseRequest { Owner = "worker-c", Duration = LeaseDuration, Types = [] });

        Assert.Empty(none);
        Assert.Equal(["deploy-1"], any.Select(w => w.Id));
    }

    [StoreFact]
    public async Task ClaimDueWorkflowsAsync_LeasedByAnotherOwner_NotClaimableBeforeExpiry()
    {
        var store = await CreateStoreAsync();
        await InsertAsync(store, "wf-1");
        var owned = Assert.Single(await store.ClaimDueWorkflowsAsync(new LeaseRequest { Owner = "worker-a", Duration = LeaseDuration }));

        Clock.Advance(LeaseDuration - TimeSpan.FromSeconds(1));
        var byOther = await store.ClaimDueWorkflowsAsync(new LeaseRequest { Owner = "worker-b", Duration = LeaseDuration });
        var single = await store.ClaimWorkflowAsync("wf-1", "worker-b", LeaseDuration);

        Assert.Empty(byOther);
        Assert.Null(single);
        RecordAssert.Same(owned, await store.GetRequiredWorkflowAsync("wf-1"));
    }

    [StoreFact]
    public async Task ClaimDueWorkflowsAsync_ExpiredLease_TakenOverByAnotherOwner()
    {
        var store = await CreateStoreAsync();
        await InsertAsync(store, "wf-1");
        var owned = Assert.Single(await store.ClaimDueWorkflowsAsync(new LeaseRequest { Owner = "worker-a", Duration = LeaseDuration }));

        Clock.Advance(LeaseDuration + TimeSpan.FromSeconds(1));
        var taken = Assert.Single(await store.ClaimDueWorkflowsAsync(new LeaseRequest { Owner = "worker-b", Duration = TimeSpan.FromMinutes(1) }));

        Assert.Equal("worker-b", taken.LeaseOwner);
        RecordAssert.Utc(Now.AddMinutes(1), taken.LeaseExpiresAt);
        Assert.Equal(owned.Version + 1, taken.Version);
        RecordAssert.Same(taken, await store.GetRequiredWorkflowAsync("wf-1"));
    }

    [StoreFact]
    public async Task CommitAsync_OldOwnerAfterTakeover_IsFencedByVersion()
    {
        var store = await CreateStoreAsync();
        await InsertAsync(store, "wf-1");
        var oldOwner = Assert.Single(await store.ClaimDueWorkflowsAsync(new LeaseRequest { Owner = "worker-a", Duration = LeaseDuration }));
        Clock.Advance(LeaseDuration + TimeSpan.FromSeconds(1));
        var newOwner = Assert.Single(await store.ClaimDueWorkflowsAsync(new LeaseRequest { Owner = "worker-b", Duration = LeaseDuration }));

        var error = await Assert.ThrowsAsync<WorkflowConcurrencyException>(() => store.CommitAsync(new ChangeSet()
            .UpdateWorkflow(oldOwner with { CurrentNode = "stale-result" })
            .AppendStep(NewStep("wf-1", "stale-node"))));
        var renewed = await store.RenewLeaseAsync("wf-1", "worker-a", LeaseDuration);
        var released = await store.ReleaseLeaseAsync("wf-1", "worker-a");
        var fresh = await UpdateAsync(store, newOwner with { CurrentNode = "fresh-result" });

        Assert.Equal(oldOwner.Version, error.ExpectedVersion);
        Assert.Equal(newOwner.Version, error.ActualVersion);
        Assert.False(renewed);
        Assert.False(released);
        Assert.Equal("fresh-result", fresh.CurrentNode);
        Assert.Equal("worker-b", fresh.LeaseOwner);
        Assert.Empty(await store.GetStepsAsync("wf-1"));
    }

    [StoreFact]
    public async Task RenewLeaseAsync_ByOwner_ExtendsWithoutChangingVersion()
    {
        var store = await CreateStoreAsync();
        await InsertAsync(store, "wf-1");
        var owned = Assert.Single(await store.ClaimDueWorkflowsAsync(new LeaseRequest { Owner = "worker-a", Duration = LeaseDuration }));
        Clock.Advance(TimeSpan.FromMinutes(4));

        var renewed = await store.RenewLeaseAsync("wf-1", "worker-a", TimeSpan.FromMinutes(10));

        Assert.True(renewed);
        var stored = await store.GetRequiredWorkflowAsync("wf-1");
        Assert.Equal("worker-a", stored.LeaseOwner);
        RecordAssert.Utc(Now.AddMinutes(10), stored.LeaseExpiresAt);
        Assert.Equal(owned.Version, stored.Version);
        Clock.Advance(TimeSpan.FromMinutes(9));
        Assert.Empty(await store.ClaimDueWorkflowsAsync(new LeaseRequest { Owner = "worker-b", Duration = LeaseDuration }));
    }

    [StoreFact]
    public async Task RenewLeaseAsync_ByOtherOwner_ReturnsFalseAndKeepsLease()
    {
        var store = await CreateStoreAsync();
        await InsertAsync(store, "wf-1");
        await InsertAsync(store, "unleased");
        var owned = Assert.Single(await store.ClaimDueWorkflowsAsync(new LeaseRequest { Owner = "worker-a", Duration = LeaseDuration, Types = [DefaultType], MaxCount = 1 }));

        var renewed = await store.RenewLeaseAsync(owned.Id, "worker-b", TimeSpan.FromHours(1));
        var renewedUnleased = await store.RenewLeaseAsync(owned.Id == "wf-1" ? "unleased" : "wf-1", "worker-b", TimeSpan.FromHours(1));

        Assert.False(renewed);
        Assert.False(renewedUnleased);
        RecordAssert.Same(owned, await store.GetRequiredWorkflowAsync(owned.Id));
    }

    [StoreFact]
    public async Task RenewLeasesAsync_Owner_ExtendsAllItsLeasesOnly()
    {
        var store = await CreateStoreAsync();
        for (var i = 0; i < 4; i++)
        {
            await InsertAsync(store, $"wf-{i}");
        }

        var mine = await store.ClaimDueWorkflowsAsync(new LeaseRequest { Owner = "worker-a", Duration = LeaseDuration, MaxCount = 3 });
        var theirs = Assert.Single(await store.ClaimDueWorkflowsAsync(new LeaseRequest { Owner = "worker-b", Duration = LeaseDuration }));
        Clock.Advance(TimeSpan.FromMinutes(1));

        var count = await store.RenewLeasesAsync("worker-a", TimeSpan.FromMinutes(30));
        var none = await store.RenewLeasesAsync("worker-c", TimeSpan.FromMinutes(30));

        Assert.Equal(3, count);
        Assert.Equal(0, none);
        foreach (var workflow in mine)
        {
            var stored = await store.GetRequiredWorkflowAsync(workflow.Id);
            RecordAssert.Utc(Now.AddMinutes(30), stored.LeaseExpiresAt);
            Assert.Equal(workflow.Version, stored.Version);
        }

        RecordAssert.Same(theirs, await store.GetRequiredWorkflowAsync(theirs.Id));
    }

    [StoreFact]
    public async Task ReleaseLeaseAsync_ByOwner_ClearsLeaseWithoutChangingVersion()
    {
        var store = await CreateStoreAsync();
        await InsertAsync(store, "wf-1");
        var owned = Assert.Single(await store.ClaimDueWorkflowsAsync(new LeaseRequest { Owner = "worker-a", Duration = LeaseDuration }));

        var released = await store.ReleaseLeaseAsync("wf-1", "worker-a");

        Assert.True(released);
        var stored = await store.GetRequiredWorkflowAsync("wf-1");
        Assert.Null(stored.LeaseOwner);
        Assert.Null(stored.LeaseExpiresAt);
        Assert.Equal(owned.Version, stored.Version);
        var next = Assert.Single(await store.ClaimDueWorkflowsAsync(new LeaseRequest { Owner = "worker-b", Duration = LeaseDuration }));
        Assert.Equal("worker-b", next.LeaseOwner);
        Assert.False(await store.ReleaseLeaseAsync("wf-1", "worker-a"));
    }

    [StoreFact]
    public async Task ReleaseLeaseAsync_ByOtherOwner_ReturnsFalseAndKeepsLease()
    {
        var store = await CreateStoreAsync();
        await InsertAsync(store, "wf-1");
        var owned = Assert.Single(await store.ClaimDueWorkflowsAsync(new LeaseRequest { Owner = "worker-a", Duration = LeaseDuration }));

        Assert.False(await store.ReleaseLeaseAsync("wf-1", "worker-b"));

        RecordAssert.Same(owned, await store.GetRequiredWorkflowAsync("wf-1"));
        Assert.Empty(await store.ClaimDueWorkflowsAsync(new LeaseRequest { Owner = "worker-b", Duration = LeaseDuration }));
    }

    [StoreFact]
    public async Task ClaimWorkflowAsync_NotDue_ClaimsItAtNextVersion()
    {
        var store = await CreateStoreAsync();
        var created = await InsertAsync(store, NewWorkflow("wf-1") with
        {
            Status = WorkflowStatus.Waiting,
            WaitReason = WaitReason.Approval,
            DueAt = Now.AddDays(1),
        });

        var claimed = await store.ClaimWorkflowAsync("wf-1", "approver", LeaseDuration);

        Assert.NotNull(claimed);
        Assert.Equal("approver", claimed.LeaseOwner);
        RecordAssert.Utc(Now + LeaseDuration, claimed.LeaseExpiresAt);
        Assert.Equal(created.Version + 1, claimed.Version);
        RecordAssert.Same(claimed, await store.GetRequiredWorkflowAsync("wf-1"));
    }

    [StoreFact]
    public async Task ClaimWorkflowAsync_AlreadyHeldBySameOwner_RenewsLease()
    {
        var store = await CreateStoreAsync();
        await InsertAsync(store, "wf-1");
        Assert.NotNull(await store.ClaimWorkflowAsync("wf-1", "worker-a", LeaseDuration));
        Clock.Advance(TimeSpan.FromMinutes(3));

        var again = await store.ClaimWorkflowAsync("wf-1", "worker-a", LeaseDuration);

        Assert.NotNull(again);
        Assert.Equal("worker-a", again.LeaseOwner);
        RecordAssert.Utc(Now + LeaseDuration, again.LeaseExpiresAt);
        RecordAssert.Same(again, await store.GetRequiredWorkflowAsync("wf-1"));
    }

    [StoreFact]
    public async Task ClaimWorkflowAsync_ExpiredLeaseOfAnotherOwner_TakesItOver()
    {
        var store = await CreateStoreAsync();
        await InsertAsync(store, "wf-1");
        var first = await store.ClaimWorkflowAsync("wf-1", "worker-a", LeaseDuration);
        Clock.Advance(LeaseDuration + TimeSpan.FromMilliseconds(1));

        var taken = await store.ClaimWorkflowAsync("wf-1", "worker-b", LeaseDuration);

        Assert.NotNull(first);
        Assert.NotNull(taken);
        Assert.Equal("worker-b", taken.LeaseOwner);
        Assert.Equal(first.Version + 1, taken.Version);
        Assert.False(await store.RenewLeaseAsync("wf-1", "worker-a", LeaseDuration));
    }

    [StoreFact]
    public async Task ClaimWorkflowAsync_MissingWorkflow_ThrowsNotFound()
    {
        var store = await CreateStoreAsync();

        var error = await Assert.ThrowsAsync<WorkflowNotFoundException>(() => store.ClaimWorkflowAsync("missing", "worker-a", LeaseDuration));

        Assert.Equal("missing", error.WorkflowId);
    }

    /// <summary>Due: due-past, due-now, waiting-due. Not: due-later, no-due, completed (due time kept).</summary>
    private async Task SeedAsync(IRatchetStore store)
    {
        await InsertAsync(store, NewWorkflow("due-past") with { DueAt = Now.AddMinutes(-10) });
        await InsertAsync(store, NewWorkflow("due-now") with { Status = WorkflowStatus.Running });
        await InsertAsync(store, NewWorkflow("waiting-due") with { Status = WorkflowStatus.Waiting, WaitReason = WaitReason.Timer, DueAt = Now.AddSeconds(-1) });
        await InsertAsync(store, NewWorkflow("due-later") with { DueAt = Now.AddMinutes(1) });
        await InsertAsync(store, NewWorkflow("no-due") with { DueAt = null });
        await InsertAsync(store, NewWorkflow("completed") with { Status = WorkflowStatus.Completed, DueAt = Now.AddMinutes(-5), CompletedAt = Now });
    }
}
