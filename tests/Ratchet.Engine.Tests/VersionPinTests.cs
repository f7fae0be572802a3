namespace Ratchet.Engine.Tests;

/// <summary>
/// A definition's version is stored with every workflow it starts and compared when a later build resumes it: the
/// hash of a given shape must never change between builds. These pin the versions of every node kind's settings.
/// </summary>
public sealed class VersionPinTests
{
    [Fact]
    public void Version_EveryNodeKindWithEverySetting_IsTheVersionEarlierBuildsRecorded()
    {
        var definition = new WorkflowBuilder("pinned")
            .Node<PinnedNode>("Typed").Then("Delegate").On("skip", "Wait").OnFailure("Failed")
                .WithRetry(new RetryPolicy { MaxAttempts = 4, InitialDelay = TimeSpan.FromSeconds(2), Jitter = 0 }).WithTimeout(TimeSpan.FromMinutes(3)).Describe("typed")
            .Node("Delegate", Nodes.Ok()).Then("Review")
            .Approval("Review", "Ship {{ it }}?", _ => "rendered").Then("Signal").On(WorkflowDefinition.Rejected, "Failed")
            .WaitForSignal("Signal", "go").Then("Child")
            .SubWorkflow("Child", "child-type").Then("Wait")
            .Delay("Wait", TimeSpan.FromSeconds(90)).Then(WorkflowDefinition.End)
            .Node("Failed", Nodes.Ok()).FailsWorkflow()
            .DefaultRetry(new RetryPolicy { MaxAttempts = 2 })
            .Timeout(TimeSpan.FromHours(1))
            .MaxVisits(50)
            .Build();

        Assert.Equal("7e46be483956", definition.Version);
    }

    [Fact]
    public void Version_OneActionWithDefaults_IsTheVersionEarlierBuildsRecorded()
    {
        Assert.Equal("5b3f0079d74b", new WorkflowBuilder("single").Node("only", Nodes.Ok()).Build().Version);
    }

    private sealed class PinnedNode : IWorkflowNode
    {
        public Task<NodeResult> ExecuteAsync(NodeContext context, CancellationToken cancellationToken) => Task.FromResult(NodeResult.Success());
    }
}
