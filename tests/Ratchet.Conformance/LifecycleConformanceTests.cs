using Ratchet.Storage;
using Xunit;

namespace Ratchet.Conformance;

/// <summary>The workflow lifecycle: every allowed and refused move, retry, time stamps, and a round trip through a store.</summary>
public abstract class LifecycleConformanceTests<TFactory> : StoreConformanceTests<TFactory>
    where TFactory : StoreFactory, new()
{
    /// <summary>The allowed moves, written out by hand from the design (not computed from the code under test).</summary>
    private static readonly (WorkflowStatus From, WorkflowStatus To)[] Allowed =
    [
        (WorkflowStatus.Pending, WorkflowStatus.Running),
        (WorkflowStatus.Pending, WorkflowStatus.Failed),
        (WorkflowStatus.Pending, WorkflowStatus.Cancelled),
        (WorkflowStatus.Running, WorkflowStatus.Waiting),
        (WorkflowStatus.Running, WorkflowStatus.Completed),
        (WorkflowStatus.Running, WorkflowStatus.Failed),
        (WorkflowStatus.Running, WorkflowStatus.Cancelled),
        (WorkflowStatus.Waiting, WorkflowStatus.Running),
        (WorkflowStatus.Waiting, WorkflowStatus.Failed),
        (WorkflowStatus.Waiting, WorkflowStatus.Cancelled),
    ];

    public static TheoryData<WorkflowStatus, WorkflowStatus> AllowedMoves()
    {
        var data = new TheoryData<WorkflowStatus, WorkflowStatus>();
        foreach (var (from, to) in Allowed)
        {
            data.Add(from, to);
        }

        return data;
    }

    public static TheoryData<WorkflowStatus, WorkflowStatus> RefusedMoves()
    {
        var data = new TheoryData<WorkflowStatus, WorkflowStatus>();
        foreach (var from in Enum.GetValues<WorkflowStatus>())
        {
            foreach (var to in Enum.GetValues<WorkflowStatus>())
            {
                if (!Allowed.Contains((from, to)))
                {
                    data.Add(from, to);
                }
            }
        }

        return data;
    }

    [Fact]
    public void AllowedMoves_Table_CoversEveryPairOnce()
    {
        // 6 statuses: 36 pairs, 10 allowed, 26 refused (self-moves included).
        Assert.Equal(36, AllowedMoves().Count + RefusedMoves().Count);
        Assert.Equal(26, RefusedMoves().Count);
    }

    [Theory]
    [MemberData(nameof(AllowedMoves))]
    public void CanTransition_AllowedMove_ReturnsTrue(WorkflowStatus from, WorkflowStatus to) =>
        Assert.True(WorkflowLifecycle.CanTransition(from, to));

    [Theory]
    [MemberData(nameof(RefusedMoves))]
    public void CanTransition_RefusedMove_ReturnsFalse(WorkflowStatus from, WorkflowStatus to) =>
        Assert.False(WorkflowLifecycle.CanTransition(from, to));

    [Theory]
    [MemberData(nameof(AllowedMoves))]
    public void TransitionTo_AllowedMove_ChangesStatusAndUpdatedAt(WorkflowStatus from, WorkflowStatus to)
    {
        var record = InStatus(from);
        var later = Now.AddSeconds(5);

        var moved = record.TransitionTo(to, later, to == WorkflowStatus.Waiting ? WaitReason.Child : WaitReason.None);

        Assert.Equal(to, moved.Status);
        Assert.Equal(to == WorkflowStatus.Waiting ? WaitReason.Child : WaitReason.None, moved.WaitReason);
        Assert.Equal(later, moved.UpdatedAt);
        Assert.Equal(record.Version, moved.Version);
        Assert.Equal(from, record.Status);
    }

    [Theory]
    [MemberData(nameof(RefusedMoves))]
    public void TransitionTo_RefusedMove_ThrowsNamingBothStates(WorkflowStatus from, WorkflowStatus to)
    {
        var record = InStatus(from);

        var error = Assert.Throws<InvalidTransitionException>(
            () => record.TransitionTo(to, Now, to == WorkflowStatus.Waiting ? WaitReason.Signal : WaitReason.None));

        Assert.Equal("wf-1", error.WorkflowId);
        Assert.Equal(from, error.From);
        Assert.Equal(to, error.To);
        Assert.Equal("invalid-transition", error.ErrorCode);
        Assert.Contains($"from {from} to {to}", error.Message, StringComparison.Ordinal);
        Assert.Contains("'wf-1'", error.Message, StringComparison.Ordinal);
        Assert.Throws<InvalidTransitionException>(() => WorkflowLifecycle.EnsureCanTransition("wf-1", from, to));
    }

    [Fact]
    public void NextStatuses_EachStatus_MatchesTheAllowedMoves()
    {
        foreach (var from in Enum.GetValues<WorkflowStatus>())
        {
            var expected = Allowed.Where(m => m.From == from).Select(m => m.To).Order().ToArray();
            Assert.Equal(expected, WorkflowLifecycle.NextStatuses(from).Order().ToArray());
        }
    }

    [Fact]
    public void IsTerminal_EachStatus_OnlyCompletedFailedCancelled()
    {
        Assert.Equal(
            [WorkflowStatus.Completed, WorkflowStatus.Failed, WorkflowStatus.Cancelled],
            Enum.GetValues<WorkflowStatus>().Where(s => s.IsTerminal()));
        Assert.Equal(
            [WorkflowStatus.Pending, WorkflowStatus.Running, WorkflowStatus.Waiting],
            Enum.GetValues<WorkflowStatus>().Where(s => s.IsActive()));
        Assert.True(InStatus(WorkflowStatus.Cancelled).IsTerminal);
        Assert.False(InStatus(WorkflowStatus.Waiting).IsTerminal);
    }

    [Theory]
    [InlineData(WorkflowStatus.Completed)]
    [InlineData(WorkflowStatus.Failed)]
    [InlineData(WorkflowStatus.Cancelled)]
    public void TransitionTo_Terminal_StampsCompletedAtAndClearsDueAt(WorkflowStatus terminal)
    {
        var record = InStatus(WorkflowStatus.Running) with { DueAt = Now.AddMinutes(3) };
        var later = Now.AddSeconds(7);

        var finished = record.TransitionTo(terminal, later);

        Assert.Equal(later, finished.CompletedAt);
        Assert.Null(finished.DueAt);
        Assert.Equal(later, finished.UpdatedAt);
    }

    [Theory]
    [InlineData(WorkflowStatus.Running, WaitReason.None)]
    [InlineData(WorkflowStatus.Waiting, WaitReason.Timer)]
    public void TransitionTo_NonTerminal_KeepsDueAtAndNoCompletedAt(WorkflowStatus status, WaitReason reason)
    {
        var from = status == WorkflowStatus.Running ? WorkflowStatus.Pending : WorkflowStatus.Running;
        var record = InStatus(from) with { DueAt = Now.AddMinutes(3) };

        var moved = record.TransitionTo(status, Now.AddSeconds(1), reason);

        Assert.Equal(Now.AddMinutes(3), moved.DueAt);
        Assert.Null(moved.CompletedAt);
    }

    [Fact]
    public void TransitionTo_WaitingWithoutReason_ThrowsArgumentException()
    {
        var record = InStatus(WorkflowStatus.Running);

        Assert.Throws<ArgumentException>(() => record.TransitionTo(WorkflowStatus.Waiting, Now));
    }

    [Fact]
    public void TransitionTo_ReasonWithoutWaiting_ThrowsArgumentException()
    {
        var record = InStatus(WorkflowStatus.Waiting) with { WaitReason = WaitReason.Approval };

        Assert.Throws<ArgumentException>(() => record.TransitionTo(WorkflowStatus.Running, Now, WaitReason.Approval));
        Assert.Equal(WaitReason.None, record.TransitionTo(WorkflowStatus.Running, Now).WaitReason);
    }

    [Theory]
    [InlineData(WorkflowStatus.Running)]
    [InlineData(WorkflowStatus.Failed)]
    [InlineData(WorkflowStatus.Cancelled)]
    public void TransitionTo_LeavingWaiting_ClearsWaitReasonAndDetail(WorkflowStatus to)
    {
        var waiting = InStatus(WorkflowStatus.Running).TransitionTo(WorkflowStatus.Waiting, Now, WaitReason.Child) with { WaitDetail = "child-1" };

        var moved = waiting.TransitionTo(to, Now);

        Assert.Equal("child-1", waiting.WaitDetail);
        Assert.Equal(WaitReason.None, moved.WaitReason);
        Assert.Null(moved.WaitDetail);
    }

    [Fact]
    public void Retry_Failed_RunningWithAttemptResetAndErrorCleared()
    {
        var failed = InStatus(WorkflowStatus.Failed) with
        {
            CurrentNode = "test",
            Attempt = 4,
            Error = new WorkflowError("Boom", "it broke"),
            WaitDetail = "stale",
            CompletedAt = Now,
            DueAt = null,
        };
        var later = Now.AddMinutes(2);

        var retried = failed.Retry(later);
        var elsewhere = failed.Retry(later, node: "build");

        Assert.Equal(WorkflowStatus.Running, retried.Status);
        Assert.Equal("test", retried.CurrentNode);
        Assert.Equal(0, retried.Attempt);
        Assert.Null(retried.Error);
        Assert.Null(retried.WaitDetail);
        Assert.Null(retried.CompletedAt);
        Assert.Equal(later, retried.DueAt);
        Assert.Equal(later, retried.UpdatedAt);
        Assert.Equal("build", elsewhere.CurrentNode);
        Assert.True(WorkflowLifecycle.CanRetry(WorkflowStatus.Failed));
        Assert.True(WorkflowLifecycle.CanRetry(WorkflowStatus.Cancelled));
    }

    [Theory]
    [InlineData(WorkflowStatus.Pending)]
    [InlineData(WorkflowStatus.Running)]
    [InlineData(WorkflowStatus.Waiting)]
    [InlineData(WorkflowStatus.Completed)]
    public void Retry_NeitherFailedNorCancelled_ThrowsInvalidTransition(WorkflowStatus status)
    {
        var record = InStatus(status);

        var error = Assert.Throws<InvalidTransitionException>(() => record.Retry(Now));

        Assert.False(WorkflowLifecycle.CanRetry(status));
        Assert.Equal(status, error.From);
        Assert.Equal(WorkflowStatus.Running, error.To);
        Assert.Contains(status.ToString(), error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void TransitionTo_FailedToRunning_IsRefusedOutsideRetry()
    {
        var error = Assert.Throws<InvalidTransitionException>(() => InStatus(WorkflowStatus.Failed).TransitionTo(WorkflowStatus.Running, Now));

        Assert.Contains("retry", error.Message, StringComparison.OrdinalIgnoreCase);
    }

    [StoreFact]
    public async Task CommitAsync_LifecycleRoundTrip_EveryStatusPersists()
    {
        var store = await CreateStoreAsync();
        var record = await InsertAsync(store, "wf-life");
        var path = new (WorkflowStatus Status, WaitReason Reason)[]
        {
            (WorkflowStatus.Running, WaitReason.None),
            (WorkflowStatus.Waiting, WaitReason.Approval),
            (WorkflowStatus.Running, WaitReason.None),
            (WorkflowStatus.Waiting, WaitReason.Timer),
            (WorkflowStatus.Failed, WaitReason.None),
        };

        foreach (var (status, reason) in path)
        {
            Clock.Advance(TimeSpan.FromSeconds(1));
            var next = record.TransitionTo(status, Now, reason) with { Error = status == WorkflowStatus.Failed ? new WorkflowError("Boom", "no") : null };
            if (status == WorkflowStatus.Waiting)
            {
                next = next with { WaitDetail = $"{reason}-detail" };
            }

            await store.CommitAsync(new ChangeSet()
                .UpdateWorkflow(next)
                .AppendEvent(NewEvent(record.Id, AuditEventTypes.StatusChanged, Json($$"""{"from":"{{record.Status}}","to":"{{status}}"}"""))));
            var stored = await store.GetRequiredWorkflowAsync(record.Id);
            Assert.Equal(status, stored.Status);
            Assert.Equal(reason, stored.WaitReason);
            Assert.Equal(status == WorkflowStatus.Waiting ? $"{reason}-detail" : null, stored.WaitDetail);
            Assert.Equal(record.Version + 1, stored.Version);
            record = stored;
        }

        RecordAssert.Utc(Now, record.CompletedAt);
        Assert.Null(record.DueAt);
        Assert.Equal("Boom", record.Error?.Type);

        Clock.Advance(TimeSpan.FromSeconds(1));
        record = await UpdateAsync(store, record.Retry(Now));
        Assert.Equal(WorkflowStatus.Running, record.Status);
        Assert.Null(record.CompletedAt);
        Assert.Null(record.Error);
        RecordAssert.Utc(Now, record.DueAt);

        Clock.Advance(TimeSpan.FromSeconds(1));
        record = await UpdateAsync(store, record.TransitionTo(WorkflowStatus.Completed, Now));
        Assert.Equal(WorkflowStatus.Completed, record.Status);
        RecordAssert.Utc(Now, record.CompletedAt);
        Assert.Equal(8, record.Version);
        var events = await store.GetEventsAsync(record.Id);
        Assert.Equal(path.Length, events.Count);
        Assert.All(events, e => Assert.Equal(AuditEventTypes.StatusChanged, e.Type));
    }

    [StoreFact]
    public async Task TransitionTo_FromStoredTerminal_IsRefusedAndStoreUnchanged()
    {
        var store = await CreateStoreAsync();
        var record = await MoveAsync(store, await InsertAsync(store, "wf-done"), WorkflowStatus.Running, WorkflowStatus.Completed);

        Assert.Throws<InvalidTransitionException>(() => record.TransitionTo(WorkflowStatus.Running, Now));
        Assert.Throws<InvalidTransitionException>(() => record.Retry(Now));

        var stored = await store.GetRequiredWorkflowAsync("wf-done");
        RecordAssert.Same(record, stored);
        Assert.Equal(3, stored.Version);
    }

    private WorkflowRecord InStatus(WorkflowStatus status) => NewWorkflow("wf-1") with
    {
        Status = status,
        WaitReason = status == WorkflowStatus.Waiting ? WaitReason.Signal : WaitReason.None,
        Version = 3,
    };
}
