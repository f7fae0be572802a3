namespace Ratchet.Tests;

public sealed class WorkflowLifecycleTests
{
    /// <summary>The lifecycle as DESIGN.md states it, written out independently of the code under test.</summary>
    private static readonly HashSet<(WorkflowStatus From, WorkflowStatus To)> Allowed =
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

    public static TheoryData<WorkflowStatus, WorkflowStatus, bool> EveryPair()
    {
        var data = new TheoryData<WorkflowStatus, WorkflowStatus, bool>();
        foreach (var from in Enum.GetValues<WorkflowStatus>())
        {
            foreach (var to in Enum.GetValues<WorkflowStatus>())
            {
                data.Add(from, to, Allowed.Contains((from, to)));
            }
        }

        return data;
    }

    [Fact]
    public void EveryPair_Always_CoversThirtySixPairs()
    {
        Assert.Equal(36, EveryPair().Count);
    }

    [Theory]
    [MemberData(nameof(EveryPair))]
    public void CanTransition_EveryPair_MatchesTheDesignTable(WorkflowStatus from, WorkflowStatus to, bool expected)
    {
        Assert.Equal(expected, WorkflowLifecycle.CanTransition(from, to));
    }

    [Theory]
    [MemberData(nameof(EveryPair))]
    public void EnsureCanTransition_EveryPair_ThrowsExactlyWhenNotAllowed(WorkflowStatus from, WorkflowStatus to, bool allowed)
    {
        var ex = Record.Exception(() => WorkflowLifecycle.EnsureCanTransition("wf-1", from, to));

        if (allowed)
        {
            Assert.Null(ex);
        }
        else
        {
            var invalid = Assert.IsType<InvalidTransitionException>(ex);
            Assert.Equal("wf-1", invalid.WorkflowId);
            Assert.Equal(from, invalid.From);
            Assert.Equal(to, invalid.To);
        }
    }

    [Theory]
    [InlineData(WorkflowStatus.Pending, false)]
    [InlineData(WorkflowStatus.Running, false)]
    [InlineData(WorkflowStatus.Waiting, false)]
    [InlineData(WorkflowStatus.Completed, true)]
    [InlineData(WorkflowStatus.Failed, true)]
    [InlineData(WorkflowStatus.Cancelled, true)]
    public void IsTerminal_EachStatus_TrueOnlyForCompletedFailedCancelled(WorkflowStatus status, bool terminal)
    {
        Assert.Equal(terminal, status.IsTerminal());
        Assert.Equal(!terminal, status.IsActive());
    }

    [Theory]
    [InlineData(WorkflowStatus.Pending, false)]
    [InlineData(WorkflowStatus.Running, false)]
    [InlineData(WorkflowStatus.Waiting, false)]
    [InlineData(WorkflowStatus.Completed, false)]
    [InlineData(WorkflowStatus.Failed, true)]
    [InlineData(WorkflowStatus.Cancelled, true)]
    public void CanRetry_EachStatus_TrueOnlyForFailedAndCancelled(WorkflowStatus status, bool expected)
    {
        Assert.Equal(expected, WorkflowLifecycle.CanRetry(status));
    }

    [Fact]
    public void NextStatuses_EachStatus_ListsTheAllowedTargetsInEnumOrder()
    {
        foreach (var from in Enum.GetValues<WorkflowStatus>())
        {
            var expected = Enum.GetValues<WorkflowStatus>().Where(to => Allowed.Contains((from, to))).ToArray();

            Assert.Equal(expected, WorkflowLifecycle.NextStatuses(from));
        }
    }

    [Theory]
    [InlineData(WorkflowStatus.Completed)]
    [InlineData(WorkflowStatus.Failed)]
    [InlineData(WorkflowStatus.Cancelled)]
    public void NextStatuses_TerminalStatus_IsEmpty(WorkflowStatus status)
    {
        Assert.Empty(WorkflowLifecycle.NextStatuses(status));
    }
}
