using System.Text.Json;
using Ratchet.Serialization;

namespace Ratchet.Tests;

public sealed class WorkflowRecordTests
{
    private static readonly DateTimeOffset Created = new(2025, 3, 1, 12, 0, 0, TimeSpan.Zero);
    private static readonly DateTimeOffset Later = Created.AddMinutes(5);

    private static WorkflowRecord NewRecord(WorkflowStatus status = WorkflowStatus.Pending) => new()
    {
        Id = "wf-1",
        Type = "issue-implementation",
        Status = status,
        CurrentNode = "plan",
        Attempt = 3,
        DueAt = Created.AddMinutes(1),
        Version = 4,
        CreatedAt = Created,
        UpdatedAt = Created,
    };

    [Fact]
    public void Defaults_NewRecord_ArePendingVersionZeroNoArtifacts()
    {
        var record = new WorkflowRecord { Id = "a", Type = "t" };

        Assert.Equal(WorkflowStatus.Pending, record.Status);
        Assert.Equal(WaitReason.None, record.WaitReason);
        Assert.Equal(0, record.Version);
        Assert.Empty(record.Artifacts);
        Assert.False(record.IsTerminal);
    }

    [Fact]
    public void TransitionTo_PendingToRunning_ChangesStatusAndUpdatedAtOnly()
    {
        var record = NewRecord();

        var running = record.TransitionTo(WorkflowStatus.Running, Later);

        Assert.Equal(WorkflowStatus.Running, running.Status);
        Assert.Equal(Later, running.UpdatedAt);
        Assert.Null(running.CompletedAt);
        Assert.Equal(record.DueAt, running.DueAt);
        Assert.Equal(record.Version, running.Version);
        Assert.Equal(record.Attempt, running.Attempt);
        Assert.Equal(WorkflowStatus.Pending, record.Status);
    }

    [Theory]
    [InlineData(WorkflowStatus.Completed)]
    [InlineData(WorkflowStatus.Failed)]
    [InlineData(WorkflowStatus.Cancelled)]
    public void TransitionTo_TerminalStatus_StampsCompletedAtAndClearsDueAt(WorkflowStatus terminal)
    {
        var running = NewRecord(WorkflowStatus.Running);

        var done = running.TransitionTo(terminal, Later);

        Assert.Equal(terminal, done.Status);
        Assert.Equal(Later, done.CompletedAt);
        Assert.Null(done.DueAt);
        Assert.True(done.IsTerminal);
    }

    [Theory]
    [InlineData(WaitReason.Approval)]
    [InlineData(WaitReason.Signal)]
    [InlineData(WaitReason.Timer)]
    [InlineData(WaitReason.Child)]
    public void TransitionTo_WaitingWithReason_KeepsReasonAndDueAt(WaitReason reason)
    {
        var running = NewRecord(WorkflowStatus.Running);

        var waiting = running.TransitionTo(WorkflowStatus.Waiting, Later, reason);

        Assert.Equal(WorkflowStatus.Waiting, waiting.Status);
        Assert.Equal(reason, waiting.WaitReason);
        Assert.Equal(running.DueAt, waiting.DueAt);
        Assert.Null(waiting.CompletedAt);
    }

    [Fact]
    public void TransitionTo_WaitingBackToRunning_ClearsWaitReason()
    {
        var waiting = NewRecord(WorkflowStatus.Running).TransitionTo(WorkflowStatus.Waiting, Later, WaitReason.Approval);

        var running = waiting.TransitionTo(WorkflowStatus.Running, Later.AddSeconds(1));

        Assert.Equal(WorkflowStatus.Running, running.Status);
        Assert.Equal(WaitReason.None, running.WaitReason);
    }

    [Fact]
    public void TransitionTo_WaitingWithoutReason_ThrowsArgumentException()
    {
        var running = NewRecord(WorkflowStatus.Running);

        var ex = Assert.Throws<ArgumentException>(() => running.TransitionTo(WorkflowStatus.Waiting, Later));

        Assert.Equal("waitReason", ex.ParamName);
        Assert.Contains("'wf-1' cannot wait without a reason", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void TransitionTo_ReasonForNonWaitingStatus_ThrowsArgumentException()
    {
        var running = NewRecord(WorkflowStatus.Running);

        var ex = Assert.Throws<ArgumentException>(() => running.TransitionTo(WorkflowStatus.Completed, Later, WaitReason.Timer));

        Assert.Equal("waitReason", ex.ParamName);
        Assert.Contains("Wait reason Timer only applies to the Waiting status, not Completed", ex.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(WorkflowStatus.Pending, WorkflowStatus.Waiting)]
    [InlineData(WorkflowStatus.Pending, WorkflowStatus.Completed)]
    [InlineData(WorkflowStatus.Running, WorkflowStatus.Pending)]
    [InlineData(WorkflowStatus.Completed, WorkflowStatus.Running)]
    [InlineData(WorkflowStatus.Failed, WorkflowStatus.Running)]
    [InlineData(WorkflowStatus.Cancelled, WorkflowStatus.Cancelled)]
    public void TransitionTo_DisallowedMove_ThrowsInvalidTransitionNamingBothStates(WorkflowStatus from, WorkflowStatus to)
    {
        var record = NewRecord(from);

        var ex = Assert.Throws<InvalidTransitionException>(() =>
            record.TransitionTo(to, Later, to == WorkflowStatus.Waiting ? WaitReason.Signal : WaitReason.None));

        Assert.Equal("wf-1", ex.WorkflowId);
        Assert.Equal(from, ex.From);
        Assert.Equal(to, ex.To);
        Assert.Contains($"from {from} to {to}", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Retry_FailedWorkflow_RunsAgainFromFailedNodeNotYetStartedDueNow()
    {
        var failed = NewRecord(WorkflowStatus.Running).TransitionTo(WorkflowStatus.Failed, Created.AddMinutes(2)) with
        {
            Error = new WorkflowError("timeout", "The node ran out of time."),
        };

        var retried = failed.Retry(Later);

        Assert.Equal(WorkflowStatus.Running, retried.Status);
        Assert.Equal(WaitReason.None, retried.WaitReason);
        Assert.Equal("plan", retried.CurrentNode);
        Assert.Equal(0, retried.Attempt); // no run of the node has started since the retry

        Assert.Null(retried.Error);
        Assert.Null(retried.CompletedAt);
        Assert.Equal(Later, retried.DueAt);
        Assert.Equal(Later, retried.UpdatedAt);
        Assert.Equal(failed.Version, retried.Version);
    }

    [Fact]
    public void Retry_WithNode_RunsFromThatNode()
    {
        var failed = NewRecord(WorkflowStatus.Failed);

        var retried = failed.Retry(Later, node: "analyze");

        Assert.Equal("analyze", retried.CurrentNode);
    }

    [Theory]
    [InlineData(WorkflowStatus.Pending)]
    [InlineData(WorkflowStatus.Running)]
    [InlineData(WorkflowStatus.Waiting)]
    [InlineData(WorkflowStatus.Completed)]
    public void Retry_NeitherFailedNorCancelled_ThrowsInvalidTransitionToRunning(WorkflowStatus status)
    {
        var record = NewRecord(status);

        var ex = Assert.Throws<InvalidTransitionException>(() => record.Retry(Later));

        Assert.Equal(status, ex.From);
        Assert.Equal(WorkflowStatus.Running, ex.To);
        Assert.Equal($"Only a Failed or Cancelled workflow can be retried; workflow 'wf-1' is {status}.", ex.Message);
    }

    [Fact]
    public void WorkflowError_FromException_KeepsTypeNameAndMessageOnly()
    {
        var error = WorkflowError.FromException(new TimeoutException("too slow"));

        Assert.Equal(new WorkflowError("TimeoutException", "too slow"), error);
    }

    [Fact]
    public void WorkflowError_FromNull_ThrowsArgumentNullException()
    {
        Assert.Throws<ArgumentNullException>(() => WorkflowError.FromException(null!));
    }

    [Fact]
    public void With_ArtifactsSet_DoesNotChangeTheOriginal()
    {
        var record = NewRecord();
        var artifacts = new Dictionary<string, JsonElement> { ["plan"] = RatchetJson.Parse("{\"steps\":3}") };

        var changed = record with { Artifacts = artifacts };

        Assert.Empty(record.Artifacts);
        Assert.Equal(3, changed.Artifacts["plan"].GetProperty("steps").GetInt32());
    }
}
