namespace Ratchet.Tests;

public sealed class InvalidTransitionExceptionTests
{
    [Theory]
    [InlineData(WorkflowStatus.Pending, WorkflowStatus.Completed)]
    [InlineData(WorkflowStatus.Waiting, WorkflowStatus.Completed)]
    [InlineData(WorkflowStatus.Running, WorkflowStatus.Pending)]
    [InlineData(WorkflowStatus.Completed, WorkflowStatus.Running)]
    [InlineData(WorkflowStatus.Cancelled, WorkflowStatus.Failed)]
    public void Message_InvalidMove_NamesWorkflowAndBothStates(WorkflowStatus from, WorkflowStatus to)
    {
        var ex = new InvalidTransitionException("wf-7", from, to);

        Assert.Contains($"Workflow 'wf-7' cannot move from {from} to {to}", ex.Message, StringComparison.Ordinal);
        Assert.Equal("invalid-transition", ex.ErrorCode);
        Assert.False(ex.IsTransient);
        Assert.Equal(from, ex.From);
        Assert.Equal(to, ex.To);
    }

    [Fact]
    public void Message_FromNonTerminal_ListsTheAllowedTargets()
    {
        var ex = new InvalidTransitionException("wf-7", WorkflowStatus.Waiting, WorkflowStatus.Completed);

        Assert.Equal(
            "Workflow 'wf-7' cannot move from Waiting to Completed: from Waiting it can only move to Running, Failed, Cancelled.",
            ex.Message);
    }

    [Fact]
    public void Message_FromFailed_SaysTerminalAndPointsToRetry()
    {
        var ex = new InvalidTransitionException("wf-7", WorkflowStatus.Failed, WorkflowStatus.Running);

        Assert.Equal(
            "Workflow 'wf-7' cannot move from Failed to Running: Failed is terminal (use retry to run it again).",
            ex.Message);
    }

    [Fact]
    public void Message_FromCompleted_SaysTerminalWithoutRetry()
    {
        var ex = new InvalidTransitionException("wf-7", WorkflowStatus.Completed, WorkflowStatus.Running);

        Assert.Equal("Workflow 'wf-7' cannot move from Completed to Running: Completed is terminal.", ex.Message);
    }

    [Fact]
    public void Constructor_CustomMessage_KeepsMessageAndStates()
    {
        var ex = new InvalidTransitionException("wf-7", WorkflowStatus.Running, WorkflowStatus.Running, "custom.");

        Assert.Equal("custom.", ex.Message);
        Assert.Equal(WorkflowStatus.Running, ex.From);
        Assert.IsAssignableFrom<RatchetException>(ex);
    }
}
