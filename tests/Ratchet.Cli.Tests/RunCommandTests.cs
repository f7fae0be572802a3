using System.Text.Json;

namespace Ratchet.Cli.Tests;

/// <summary><c>run</c>, <c>worker</c>, <c>retry</c>, <c>trace</c>, <c>validate</c> and <c>graph</c> as a user runs them.</summary>
public sealed class RunCommandTests : IDisposable
{
    private const string Simple = """
        name: simple
        inputs:
          who: { type: string, default: world }
        nodes:
          greet:
            run: echo hello {{ inputs.who }}
          count:
            run: |-
              printf '{"words": %s}' 2
            outputs: json
        """;

    private readonly CliSandbox _sandbox = new();

    public void Dispose() => _sandbox.Dispose();

    [Fact]
    public async Task Run_SimpleWorkflow_CompletesWithExitZeroShowingProgress()
    {
        _sandbox.Write("simple.yaml", Simple);

        var result = await _sandbox.RunAsync("run", "simple.yaml", "--input", "who=tests", "--id", "simple-1");

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Equal(["Workflow simple-1 completed in"], result.StdoutLines.Select(l => l[..l.IndexOf(" in ", StringComparison.Ordinal)] + " in"));
        Assert.Contains(result.StderrLines, l => l.EndsWith("simple-1 simple: ▶ greet (attempt 1)", StringComparison.Ordinal));
        Assert.Contains(result.StderrLines, l => l.Contains("simple-1 simple: ✔ count in ", StringComparison.Ordinal));
        Assert.Contains(result.StderrLines, l => l.EndsWith("simple-1 simple: completed", StringComparison.Ordinal));
        await using var store = await _sandbox.OpenStoreAsync();
        var workflow = await store.GetRequiredWorkflowAsync("simple-1");
        Assert.Equal(WorkflowStatus.Completed, workflow.Status);
        Assert.Equal("hello tests", workflow.Artifacts["greet"].GetString());
        Assert.Equal(2, workflow.Artifacts["count"].GetProperty("words").GetInt32());
        Assert.True(File.Exists(_sandbox.File("runs/simple-1/logs/greet.log")));
    }

    [Fact]
    public async Task Run_WithJson_PrintsOnlyTheWorkflowRecord()
    {
        _sandbox.Write("simple.yaml", Simple);

        var result = await _sandbox.RunAsync("run", "simple.yaml", "--id", "json-1", "--json");

        Assert.True(result.ExitCode == 0, result.ToString());
        var workflow = JsonDocument.Parse(result.Stdout).RootElement;
        Assert.Equal(("json-1", "simple", "Completed"), (workflow.GetProperty("id").GetString(), workflow.GetProperty("type").GetString(), workflow.GetProperty("status").GetString()));
        Assert.Equal("hello world", workflow.GetProperty("artifacts").GetProperty("greet").GetString());
        Assert.Empty(result.Stderr);
    }

    [Fact]
    public async Task Run_SameIdAgain_FollowsTheExistingWorkflowWithoutRunningItAgain()
    {
        _sandbox.Write("once.yaml", "name: once\nnodes:\n  mark: { run: echo ran >> marks.txt }\n");

        var first = await _sandbox.RunAsync("run", "once.yaml", "--id", "once-1");
        var second = await _sandbox.RunAsync("run", "once.yaml", "--id", "once-1");

        Assert.Equal((0, 0), (first.ExitCode, second.ExitCode));
        Assert.Equal(["ran"], _sandbox.ReadLines("marks.txt"));
        Assert.Contains("Workflow once-1 completed", second.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Run_FailingNodeRetried_ExitsOneAndTraceShowsEveryAttempt()
    {
        _sandbox.Write("flaky.yaml", """
            name: flaky
            nodes:
              build:
                run: echo "attempt $RATCHET_ATTEMPT" >> attempts.txt; echo "compiler exploded" >&2; exit 1
                retry: { max_attempts: 3, delay: 10ms, jitter: 0 }
            """);

        var run = await _sandbox.RunAsync("run", "flaky.yaml", "--id", "flaky-1");
        var trace = await _sandbox.RunAsync("trace", "flaky-1");

        Assert.True(run.ExitCode == 1, run.ToString());
        Assert.Equal(["attempt 1", "attempt 2", "attempt 3"], _sandbox.ReadLines("attempts.txt"));
        var line = Assert.Single(run.StdoutLines);
        Assert.StartsWith("Workflow flaky-1 failed at node 'build': Node 'build' command exited with code 1: compiler exploded.", line, StringComparison.Ordinal);
        Assert.Contains("ratchet retry flaky-1", line, StringComparison.Ordinal);

        Assert.Equal(0, trace.ExitCode);
        var events = trace.StdoutLines.Select(l => JsonDocument.Parse(l).RootElement).ToArray();
        Assert.Equal([1, 2, 3], events.Where(e => e.GetProperty("type").GetString() == "node-failed").Select(e => e.GetProperty("attempt").GetInt32()));
        Assert.Equal([2, 3], events.Where(e => e.GetProperty("type").GetString() == "retry-scheduled").Select(e => e.GetProperty("attempt").GetInt32()));
        Assert.Equal(3, events.Count(e => e.GetProperty("type").GetString() == "command-executed" && e.GetProperty("payload").GetProperty("exitCode").GetString() == "1"));
    }

    [Fact]
    public async Task Retry_FailedWorkflowOnceTheCauseIsFixed_CompletesFromTheFailedNode()
    {
        _sandbox.Write("fixable.yaml", """
            name: fixable
            nodes:
              prepare:
                run: echo prepared >> marks.txt
              check:
                run: test -f fixed.txt
            """);

        var failed = await _sandbox.RunAsync("run", "fixable.yaml", "--id", "fix-1");
        _sandbox.Write("fixed.txt", "yes");
        var retried = await _sandbox.RunAsync("retry", "fix-1");

        Assert.True(failed.ExitCode == 1, failed.ToString());
        Assert.True(retried.ExitCode == 0, retried.ToString());
        Assert.Equal(["prepared"], _sandbox.ReadLines("marks.txt"));
        var trace = await _sandbox.RunAsync("trace", "fix-1");
        Assert.Contains(trace.StdoutLines, l => l.Contains("\"type\":\"retried\"", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Retry_FromAnUnknownNode_IsExitTwoNamingItAndListingTheNodes()
    {
        _sandbox.Write("fixable.yaml", "name: fixable\nnodes:\n  prepare: { run: echo prepared }\n  check: { run: test -f fixed.txt }\n");
        var failed = await _sandbox.RunAsync("run", "fixable.yaml", "--id", "fix-2");

        var retried = await _sandbox.RunAsync("retry", "fix-2", "--from", "nope");

        Assert.True(failed.ExitCode == 1, failed.ToString());
        Assert.True(retried.ExitCode == 2, retried.ToString());
        var line = Assert.Single(retried.StderrLines);
        Assert.StartsWith("ratchet: error[unknown-node]: Workflow 'fixable' (version ", line, StringComparison.Ordinal);
        Assert.EndsWith("has no node 'nope'. Its nodes are: prepare, check.", line, StringComparison.Ordinal);
        await using var store = await _sandbox.OpenStoreAsync();
        Assert.Equal(WorkflowStatus.Failed, (await store.GetRequiredWorkflowAsync("fix-2")).Status);
    }

    [Fact]
    public async Task Run_Detached_PrintsTheIdAndAWorkerRunsIt()
    {
        _sandbox.Write("simple.yaml", Simple);

        var detached = await _sandbox.RunAsync("run", "simple.yaml", "--detach", "--id", "later-1");
        var pending = await _sandbox.RunAsync("state", "show", "later-1", "--json");
        var worker = await _sandbox.RunAsync("worker", "--until-idle");

        Assert.True(detached.ExitCode == 0, detached.ToString());
        Assert.Equal(["later-1"], detached.StdoutLines);
        Assert.True(pending.ExitCode == 0, pending.ToString());
        Assert.Contains("\"Pending\"", pending.Stdout, StringComparison.Ordinal);
        Assert.True(worker.ExitCode == 0, worker.ToString());
        await using var store = await _sandbox.OpenStoreAsync();
        Assert.Equal(WorkflowStatus.Completed, (await store.GetRequiredWorkflowAsync("later-1")).Status);
    }

    [Fact]
    public async Task Cancel_WaitingWorkflow_EndsItCancelled()
    {
        _sandbox.Write("ask.yaml", "name: ask\nnodes:\n  ask: { approval: ok? }\n  after: { run: echo after }\n");

        var waiting = await _sandbox.RunAsync("run", "ask.yaml", "--id", "cancel-1");
        var cancelled = await _sandbox.RunAsync("cancel", "cancel-1", "--reason", "not needed");

        Assert.Equal(3, waiting.ExitCode);
        Assert.True(cancelled.ExitCode == 0, cancelled.ToString());
        await using var store = await _sandbox.OpenStoreAsync();
        var workflow = await store.GetRequiredWorkflowAsync("cancel-1");
        Assert.Equal(WorkflowStatus.Cancelled, workflow.Status);
        Assert.Contains("not needed", workflow.Error?.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Trace_Workflow_PrintsOneJsonEventPerLineInOrder()
    {
        _sandbox.Write("simple.yaml", Simple);
        await _sandbox.RunAsync("run", "simple.yaml", "--id", "trace-1");

        var trace = await _sandbox.RunAsync("trace", "trace-1");
        var after = await _sandbox.RunAsync("trace", "trace-1", "--after", "3");

        Assert.Equal(0, trace.ExitCode);
        var events = trace.StdoutLines.Select(l => JsonDocument.Parse(l).RootElement).ToArray();
        Assert.Equal(Enumerable.Range(1, events.Length), events.Select(e => e.GetProperty("sequence").GetInt32()));
        Assert.All(events, e => Assert.Equal("trace-1", e.GetProperty("workflowId").GetString()));
        Assert.Equal("created", events[0].GetProperty("type").GetString());
        Assert.Equal(["greet", "count"], events.Where(e => e.GetProperty("type").GetString() == "node-completed").Select(e => e.GetProperty("node").GetString()));
        Assert.Equal(["echo hello 'world'", "printf '{\"words\": %s}' 2"],
            events.Where(e => e.GetProperty("type").GetString() == "command-executed").Select(e => e.GetProperty("payload").GetProperty("command").GetString()));
        Assert.Equal(trace.StdoutLines.Skip(3), after.StdoutLines);
    }

    [Fact]
    public async Task Validate_GoodFile_ExitsZeroNamingItAndItsSubWorkflows()
    {
        _sandbox.Write("child.yaml", "name: child\nnodes:\n  a: { run: echo }\n");
        var path = _sandbox.Write("parent.yaml", "name: parent\nnodes:\n  call: { workflow: child.yaml }\n  after: { run: echo }\n");

        var result = await _sandbox.RunAsync("validate", "parent.yaml");

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Equal(2, result.StdoutLines.Count);
        Assert.StartsWith($"{path}: valid: workflow 'parent' (version ", result.StdoutLines[0], StringComparison.Ordinal);
        Assert.EndsWith("), 2 nodes.", result.StdoutLines[0], StringComparison.Ordinal);
        Assert.StartsWith($"{_sandbox.File("child.yaml")}: valid: workflow 'child'", result.StdoutLines[1], StringComparison.Ordinal);
        Assert.False(File.Exists(_sandbox.Database), "validate created a store.");
    }

    [Fact]
    public async Task Run_HostileInputsInQuotedTemplates_RunNothingAndHolesInSingleQuotesAreRefused()
    {
        var marker = _sandbox.File("pwned");
        _sandbox.Write("fix.yaml", """
            name: fix
            inputs:
              issue: string
            nodes:
              say:
                run: echo "Fixing {{ inputs.issue }}" > said.txt
              note:
                run: |-
                  cat > note.txt <<'EOF'
                  {{ inputs.issue }}
                  EOF
            """);
        _sandbox.Write("single.yaml", """
            name: single
            inputs:
              issue: string
            nodes:
              say:
                run: echo 'Fixing {{ inputs.issue }}' > said.txt
            """);
        var hostile = $"$(touch {marker}) `touch {marker}` \"; touch {marker}; \" ' x";

        var run = await _sandbox.RunAsync("run", "fix.yaml", "--input", $"issue={hostile}", "--id", "fix-q");
        var validate = await _sandbox.RunAsync("validate", "single.yaml");
        var refused = await _sandbox.RunAsync("run", "single.yaml", "--input", $"issue=$(touch {marker})");

        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.Equal([$"Fixing {hostile}"], _sandbox.ReadLines("said.txt"));
        Assert.Equal([hostile], _sandbox.ReadLines("note.txt"));
        Assert.Equal(2, validate.ExitCode);
        Assert.StartsWith("ratchet: error[invalid-workflow-file]: single.yaml:6:23: In the command of node 'say', '{{ inputs.issue }}' is inside single quotes", Assert.Single(validate.StderrLines), StringComparison.Ordinal);
        Assert.Contains("env:", validate.Stderr, StringComparison.Ordinal);
        Assert.Equal(2, refused.ExitCode);
        Assert.False(File.Exists(marker), "A hostile input value was run as a command.");
    }

    [Fact]
    public async Task Run_LoopWhoseExitNeverHolds_FailsAtMaxVisitsAndRetryGivesAnother()
    {
        _sandbox.Write("spin.yaml", """
            name: spin
            max_visits: 6
            nodes:
              check:
                run: echo again
                on:
                  "output == 'again'": fix
              fix:
                run: echo again
                on:
                  "output == 'again'": check
            """);
        _sandbox.Write("zero.yaml", "name: zero\nmax_visits: 0\nnodes:\n  a: { run: echo }\n");

        var run = await _sandbox.RunAsync("run", "spin.yaml", "--id", "spin-1");
        var retried = await _sandbox.RunAsync("retry", "spin-1");
        var zero = await _sandbox.RunAsync("validate", "zero.yaml");

        Assert.True(run.ExitCode == 1, run.ToString());
        Assert.StartsWith("Workflow spin-1 failed at node 'check': Workflow 'spin-1' visited 6 nodes, the limit for one run: a loop whose exit never holds?", Assert.Single(run.StdoutLines), StringComparison.Ordinal);
        Assert.True(retried.ExitCode == 1, retried.ToString());
        Assert.Contains("visited 6 nodes", retried.Stdout, StringComparison.Ordinal);
        await using var store = await _sandbox.OpenStoreAsync();
        Assert.Equal(12, (await store.GetStepsAsync("spin-1")).Count);
        Assert.Equal(2, zero.ExitCode);
        Assert.Contains("zero.yaml:2:13: 'max_visits' is 0; it must be at least 1", zero.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Retry_Twice_GivesEachExecutionItsOwnAttemptAndIdempotencyKey()
    {
        _sandbox.Write("flaky.yaml", """
            name: flaky
            nodes:
              a:
                run: echo "$RATCHET_ATTEMPT $RATCHET_IDEMPOTENCY_KEY" >> keys.txt; test -f fixed.txt
                retry: { max_attempts: 2, delay: 10ms }
            """);

        var run = await _sandbox.RunAsync("run", "flaky.yaml", "--id", "i1");
        var first = await _sandbox.RunAsync("retry", "i1");
        _sandbox.Write("fixed.txt", "yes");
        var second = await _sandbox.RunAsync("retry", "i1");

        Assert.Equal((1, 1, 0), (run.ExitCode, first.ExitCode, second.ExitCode));
        Assert.Equal(["1 i1/a/1", "2 i1/a/2", "3 i1/a/3", "4 i1/a/4", "5 i1/a/5"], _sandbox.ReadLines("keys.txt"));
    }

    [Fact]
    public async Task Validate_BadFile_ExitsTwoWithOneLineListingEveryProblem()
    {
        _sandbox.Write("bad.yaml", """
            name: bad
            nodes:
              a:
                run: make
                timout: 5s
                next: b
              c:
                run: make
                outputs: yaml
            """);

        var result = await _sandbox.RunAsync("validate", "bad.yaml");

        Assert.Equal(2, result.ExitCode);
        Assert.Empty(result.Stdout);
        var line = Assert.Single(result.StderrLines);
        Assert.StartsWith("ratchet: error[invalid-workflow-file]: bad.yaml:5:5: Unknown key 'timout' in node 'a' (did you mean 'timeout'?)", line, StringComparison.Ordinal);
        Assert.Contains("and 2 more problems", line, StringComparison.Ordinal);
        Assert.Contains("bad.yaml:6:11: 'next' of node 'a' goes to 'b', which is not a node", line, StringComparison.Ordinal);
        Assert.Contains("bad.yaml:9:14: Outputs is 'yaml'", line, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Graph_Mermaid_DrawsNodesAndLabelledEdges()
    {
        _sandbox.Write("graph.yaml", """
            name: graph
            nodes:
              build:
                run: make
                on: { exit 3: ask, failure: report }
              ask:
                approval: Ship?
              ship:
                run: ./ship.sh
                next: end
              report:
                run: ./report.sh
                fails_workflow: true
            """);

        var mermaid = await _sandbox.RunAsync("graph", "graph.yaml");
        var byDefault = await _sandbox.RunAsync("graph", "graph.yaml", "--format", "mermaid");

        Assert.True(mermaid.ExitCode == 0, mermaid.ToString());
        Assert.Equal(mermaid.Stdout, byDefault.Stdout);
        Assert.StartsWith("flowchart TD\n", mermaid.Stdout, StringComparison.Ordinal);
        Assert.Contains("start((start)) --> n0", mermaid.Stdout, StringComparison.Ordinal);
        Assert.Contains("n0 -->|exit 3| n1", mermaid.Stdout, StringComparison.Ordinal);
        Assert.Contains("n0 -.->|failure| n3", mermaid.Stdout, StringComparison.Ordinal);
        Assert.Contains("n1{{\"ask: Ship?\"}}", mermaid.Stdout, StringComparison.Ordinal);
        Assert.Contains("n3 --> failed", mermaid.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Graph_Dot_DrawsADigraph()
    {
        _sandbox.Write("graph.yaml", "name: graph\nnodes:\n  build: { run: make, on: { failure: report } }\n  report: { run: ./report.sh, fails_workflow: true }\n");

        var dot = await _sandbox.RunAsync("graph", "graph.yaml", "--format", "dot");
        var unknown = await _sandbox.RunAsync("graph", "graph.yaml", "--format", "svg");

        Assert.True(dot.ExitCode == 0, dot.ToString());
        Assert.StartsWith("digraph \"graph\" {", dot.Stdout, StringComparison.Ordinal);
        Assert.Contains("\"$start\" -> \"build\";", dot.Stdout, StringComparison.Ordinal);
        Assert.Contains("\"build\" -> \"report\"", dot.Stdout, StringComparison.Ordinal);
        Assert.EndsWith("}\n", dot.Stdout, StringComparison.Ordinal);
        Assert.Equal(2, unknown.ExitCode);
    }
}
