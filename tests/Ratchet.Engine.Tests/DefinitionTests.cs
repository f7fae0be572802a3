namespace Ratchet.Engine.Tests;

/// <summary>Issue 3, point 1: code-first definitions, their validation, version hash and graphs.</summary>
public sealed class DefinitionTests : IDisposable
{
    private readonly Scratch _scratch = new();

    public void Dispose() => _scratch.Dispose();

    [Fact]
    public async Task Run_OutcomeWithItsOwnTransition_TakesThatTransitionElseNext()
    {
        var definition = new WorkflowBuilder("triage")
            .Node("Classify", (context, _) => Task.FromResult(NodeResult.WithOutcome(context.GetInput<string>()!)))
                .Then("Triage").On("bug", "FixBug").On("feature", "Build")
            .Node("FixBug", Nodes.Ok("fixed")).Then(WorkflowDefinition.End)
            .Node("Build", Nodes.Ok("built")).Then(WorkflowDefinition.End)
            .Node("Triage", Nodes.Ok("triaged"))
            .Build();
        await using var engine = await TestEngines.BuildAsync(_scratch.Database, definition);
        var bug = await engine.StartAsync("triage", "bug");
        var feature = await engine.StartAsync("triage", "feature");
        var other = await engine.StartAsync("triage", "question");

        using var timeout = Within.Seconds();
        await engine.CreateRunner().RunUntilIdleAsync(timeout.Token);

        Assert.Equal("FixBug", definition["Classify"].TargetFor("bug"));
        Assert.Equal("Triage", definition["Classify"].TargetFor("question"));
        foreach (var (id, expected) in new[] { (bug.Id, "FixBug"), (feature.Id, "Build"), (other.Id, "Triage") })
        {
            var workflow = await engine.Store.GetRequiredWorkflowAsync(id);
            Assert.Equal(WorkflowStatus.Completed, workflow.Status);
            Assert.Equal(["Classify", expected], (await engine.Store.GetStepsAsync(id)).Select(s => s.Node));
            Assert.Equal(expected, workflow.CurrentNode);
        }

        // A non-default outcome is kept on the node-completed event.
        var completed = (await engine.Store.GetEventsAsync(bug.Id)).First(e => e.Type == AuditEventTypes.NodeCompleted && e.Node == "Classify");
        Assert.Equal("bug", completed.Payload!.Value.GetProperty("outcome").GetString());
    }

    [Fact]
    public async Task Run_NodeFailsForGood_FollowsFailurePathToFailsWorkflowNode()
    {
        var definition = new WorkflowBuilder("failing")
            .Node("Work", (_, _) => throw new InvalidOperationException("disk full")).WithRetry(RetryPolicy.None).Then("Done").OnFailure("Cleanup")
            .Node("Done", Nodes.Ok())
            .Node("Cleanup", (context, _) => Task.FromResult(NodeResult.Success(context.LastError!.Message))).FailsWorkflow()
            .Build();
        await using var engine = await TestEngines.BuildAsync(_scratch.Database, definition);
        var started = await engine.StartAsync("failing");

        using var timeout = Within.Seconds();
        await engine.CreateRunner().RunUntilIdleAsync(timeout.Token);

        var workflow = await engine.Store.GetRequiredWorkflowAsync(started.Id);
        Assert.Equal(WorkflowStatus.Failed, workflow.Status);
        Assert.Equal("Cleanup", workflow.CurrentNode);
        // The error that sent it down the failure path is the workflow's error, and the failure node saw it.
        Assert.Equal("disk full", workflow.Error!.Message);
        Assert.Equal("disk full", workflow.Artifacts["Cleanup"].GetString());
        Assert.Equal([("Work", StepOutcome.Failed), ("Cleanup", StepOutcome.Completed)],
            (await engine.Store.GetStepsAsync(started.Id)).Select(s => (s.Node, s.Outcome)));
    }

    [Fact]
    public async Task Run_FailurePathWithoutFailsWorkflow_EndsCompleted()
    {
        var definition = new WorkflowBuilder("fallback")
            .Node("Primary", (_, _) => throw new InvalidOperationException("primary down")).WithRetry(RetryPolicy.None).OnFailure("Fallback")
            .Node("Fallback", Nodes.Ok("served from cache"))
            .Build();
        await using var engine = await TestEngines.BuildAsync(_scratch.Database, definition);
        var started = await engine.StartAsync("fallback");

        using var timeout = Within.Seconds();
        await engine.CreateRunner().RunUntilIdleAsync(timeout.Token);

        var workflow = await engine.Store.GetRequiredWorkflowAsync(started.Id);
        Assert.Equal(WorkflowStatus.Completed, workflow.Status);
        Assert.Equal("served from cache", workflow.Artifacts["Fallback"].GetString());
    }

    [Fact]
    public void Build_UnknownTarget_NamesItWithASuggestion()
    {
        var error = Assert.Throws<WorkflowDefinitionException>(() => new WorkflowBuilder("typo")
            .Node("Analyzing", Nodes.Ok()).Then("planning")
            .Node("Planning", Nodes.Ok())
            .Build());

        Assert.Equal("typo", error.Workflow);
        var problem = Assert.Single(error.Problems);
        Assert.Contains("'Analyzing' leads to 'planning', which is not a node (did you mean 'Planning'?)", problem);
        Assert.Contains(problem, error.Message);
    }

    [Fact]
    public void Build_UnreachableNode_IsReported()
    {
        var error = Assert.Throws<WorkflowDefinitionException>(() => new WorkflowBuilder("island")
            .Node("A", Nodes.Ok())
            .Node("Orphan", Nodes.Ok())
            .Build());

        Assert.Contains(error.Problems, p => p.Contains("'Orphan' is unreachable from the start node 'A'", StringComparison.Ordinal));
    }

    [Fact]
    public void Build_LoopWithoutExit_IsReportedForEveryNodeInIt()
    {
        var error = Assert.Throws<WorkflowDefinitionException>(() => new WorkflowBuilder("loop")
            .Node("A", Nodes.Ok()).Then("B")
            .Node("B", Nodes.Ok()).Then("A")
            .Build());

        Assert.Equal(2, error.Problems.Count);
        Assert.Contains(error.Problems, p => p.Contains("'A' has no path to an end", StringComparison.Ordinal));
        Assert.Contains(error.Problems, p => p.Contains("'B' has no path to an end", StringComparison.Ordinal));
    }

    [Fact]
    public void Build_LoopWithAnOutcomeThatEnds_IsValid()
    {
        var definition = new WorkflowBuilder("loop-with-exit")
            .Node("A", Nodes.Ok()).Then("B")
            .Node("B", Nodes.Ok()).Then("A").On("done", WorkflowDefinition.End)
            .Build();

        Assert.Equal(2, definition.Nodes.Count);
    }

    [Fact]
    public void Build_DuplicateNames_IsReported()
    {
        var error = Assert.Throws<WorkflowDefinitionException>(() => new WorkflowBuilder("twice")
            .Node("A", Nodes.Ok()).Then("A2")
            .Node("A2", Nodes.Ok())
            .Node("A2", Nodes.Ok())
            .Build());

        Assert.Contains(error.Problems, p => p.Contains("'A2' is declared twice", StringComparison.Ordinal));
    }

    [Fact]
    public void Build_BadRetryPolicies_ListsEachProblem()
    {
        var error = Assert.Throws<WorkflowDefinitionException>(() => new WorkflowBuilder("bad-retry")
            .DefaultRetry(new RetryPolicy { Jitter = 2 })
            .Node("A", Nodes.Ok()).WithRetry(new RetryPolicy { MaxAttempts = 0, BackoffFactor = 0.5, InitialDelay = TimeSpan.FromSeconds(-1) })
            .Build());

        Assert.Contains(error.Problems, p => p.Contains("Node 'A': MaxAttempts is 0", StringComparison.Ordinal));
        Assert.Contains(error.Problems, p => p.Contains("Node 'A': BackoffFactor is 0.5", StringComparison.Ordinal));
        Assert.Contains(error.Problems, p => p.Contains("Node 'A': retry delays cannot be negative", StringComparison.Ordinal));
        Assert.Contains(error.Problems, p => p.Contains("default retry: Jitter is 2", StringComparison.Ordinal));
        Assert.Equal(4, error.Problems.Count);
    }

    [Fact]
    public void Build_NameAndTargetProblems_AllListedInOneException()
    {
        var error = Assert.Throws<WorkflowDefinitionException>(() => new WorkflowBuilder("many")
            .Node("Start", Nodes.Ok()).Then("Finsh").WithRetry(new RetryPolicy { MaxAttempts = 0 })
            .Node("Finish", Nodes.Ok())
            .Node("Finish", Nodes.Ok())
            .Build());

        Assert.Contains(error.Problems, p => p.Contains("'Start' leads to 'Finsh', which is not a node", StringComparison.Ordinal));
        Assert.Contains(error.Problems, p => p.Contains("'Finish' is declared twice", StringComparison.Ordinal));
        Assert.Contains(error.Problems, p => p.Contains("MaxAttempts is 0", StringComparison.Ordinal));
        foreach (var problem in error.Problems)
        {
            Assert.Contains(problem, error.Message);
        }
    }

    [Fact]
    public void Build_EveryKindOfProblem_AllListedInOneException()
    {
        // One definition with an unknown target, a duplicate, a bad policy, an unreachable node and a loop without exit:
        // one exception that lists all five, so that one build shows everything to fix.
        var error = Assert.Throws<WorkflowDefinitionException>(() => new WorkflowBuilder("everything-wrong")
            .Node("Start", Nodes.Ok()).Then("Loop1").On("other", "Nowhere").WithRetry(new RetryPolicy { MaxAttempts = 0 })
            .Node("Loop1", Nodes.Ok()).Then("Loop2")
            .Node("Loop2", Nodes.Ok()).Then("Loop1")
            .Node("Island", Nodes.Ok())
            .Node("Island", Nodes.Ok())
            .Build());

        Assert.Contains(error.Problems, p => p.Contains("'Nowhere', which is not a node", StringComparison.Ordinal));
        Assert.Contains(error.Problems, p => p.Contains("'Island' is declared twice", StringComparison.Ordinal));
        Assert.Contains(error.Problems, p => p.Contains("MaxAttempts is 0", StringComparison.Ordinal));
        Assert.Contains(error.Problems, p => p.Contains("'Island' is unreachable", StringComparison.Ordinal));
        Assert.Contains(error.Problems, p => p.Contains("'Loop1' has no path to an end", StringComparison.Ordinal));
    }

    [Fact]
    public void Version_SameShapeBuiltTwice_IsTheSame()
    {
        // Different delegate instances, same shape: a restarted process must find the version its workflows started with.
        Assert.Equal(Shape().Build().Version, Shape().Build().Version);
        Assert.Matches("^[0-9a-f]{12}$", Shape().Build().Version);
    }

    [Fact]
    public void Version_ShapeChanged_Differs()
    {
        var original = Shape().Build().Version;
        string[] changed =
        [
            ShapeWith(b => b.Then("C").Node("C", Nodes.Ok())).Version,
            ShapeWith(b => b.On("skip", WorkflowDefinition.End)).Version,
            ShapeWith(b => b.WithRetry(new RetryPolicy { MaxAttempts = 7 })).Version,
            ShapeWith(b => b.WithTimeout(TimeSpan.FromMinutes(1))).Version,
            new WorkflowBuilder("shape").Node("A", Nodes.Ok()).Then("B2").Node("B2", Nodes.Ok()).Build().Version,
            new WorkflowBuilder("shape2").Node("A", Nodes.Ok()).Then("B").Node("B", Nodes.Ok()).Build().Version,
        ];

        Assert.All(changed, version => Assert.NotEqual(original, version));
        Assert.Equal(changed.Length, changed.Distinct().Count());
    }

    [Fact]
    public void ToMermaid_Definition_DrawsEveryNodeAndEdge()
    {
        var mermaid = Lines(GraphDefinition().ToMermaid());

        Assert.Equal("flowchart TD", mermaid[0]);
        string[] expected =
        [
            "start((start)) --> n0",
            "n0[\"Analyze: reads the issue\"]",
            "n1{{\"Review: Ship it?\"}}",
            "n2[[\"Child: child-type\"]]",
            "n3([\"Wait: signal go\"])",
            "n4[\"Failed\"]",
            "n0 --> n1",
            "n0 -.->|failure| n4",
            "n1 -->|rejected| n0",
            "n1 -->|else| n2",
            "n2 --> n3",
            "n3 --> done",
            "n4 --> failed",
            "done((completed))",
            "failed((failed))",
        ];
        Assert.All(expected, line => Assert.Contains(line, mermaid));
        Assert.Equal(expected.Length + 1, mermaid.Count);
    }

    [Fact]
    public void ToDot_Definition_DrawsEveryNodeAndEdge()
    {
        var dot = Lines(GraphDefinition().ToDot());

        Assert.Equal("digraph \"graph\" {", dot[0]);
        Assert.Equal("}", dot[^1]);
        string[] expected =
        [
            "\"$start\" -> \"Analyze\";",
            "\"Analyze\" [shape=box, label=\"Analyze: reads the issue\"];",
            "\"Review\" [shape=hexagon, label=\"Review: Ship it?\"];",
            "\"Child\" [shape=box3d, label=\"Child: child-type\"];",
            "\"Wait\" [shape=ellipse, label=\"Wait: signal go\"];",
            "\"Failed\" [shape=box, label=\"Failed\"];",
            "\"Analyze\" -> \"Review\";",
            "\"Analyze\" -> \"Failed\" [label=\"failure\", style=dashed];",
            "\"Review\" -> \"Analyze\" [label=\"rejected\"];",
            "\"Review\" -> \"Child\" [label=\"else\"];",
            "\"Child\" -> \"Wait\";",
            "\"Wait\" -> \"$completed\";",
            "\"Failed\" -> \"$failed\";",
        ];
        Assert.All(expected, line => Assert.Contains(line, dot));
        Assert.Equal(expected.Count(l => l.Contains("->", StringComparison.Ordinal)), dot.Count(l => l.Contains("->", StringComparison.Ordinal)));
    }

    [Fact]
    public void Graphs_ApprovalWithoutRejectedTransition_DrawRejectionAsFailure()
    {
        // Rejecting an approval that has no "rejected" transition fails the workflow: the graph must say so.
        var definition = new WorkflowBuilder("approve-only")
            .Approval("Review", "Merge?")
            .Build();

        Assert.Contains("n0 -.->|rejected| failed", Lines(definition.ToMermaid()));
        Assert.Contains("n0 --> done", Lines(definition.ToMermaid()));
        Assert.Contains("\"Review\" -> \"$failed\" [label=\"rejected\", style=dashed];", Lines(definition.ToDot()));
        Assert.Contains("\"Review\" -> \"$completed\";", Lines(definition.ToDot()));
    }

    private static WorkflowBuilder Shape() => new WorkflowBuilder("shape")
        .Node("A", Nodes.Ok()).Then("B")
        .Node("B", Nodes.Ok());

    private static WorkflowDefinition ShapeWith(Func<WorkflowBuilder, WorkflowBuilder> change) => change(Shape()).Build();

    private static WorkflowDefinition GraphDefinition() => new WorkflowBuilder("graph")
        .Node("Analyze", Nodes.Ok()).Describe("reads the issue").Then("Review").OnFailure("Failed")
        .Approval("Review", "Ship it?").Then("Child").On(WorkflowDefinition.Rejected, "Analyze")
        .SubWorkflow("Child", "child-type").Then("Wait")
        .WaitForSignal("Wait", "go")
        .Node("Failed", Nodes.Ok()).FailsWorkflow()
        .Build();

    private static List<string> Lines(string text) =>
        [.. text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)];
}
