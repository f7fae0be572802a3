using System.Text.Json;

namespace Ratchet.Cli.Tests;

/// <summary>
/// Issue 6, point 1 on the command line: <c>ratchet trigger ...</c>, and triggered workflows started exactly once by a
/// real <c>ratchet run</c> / <c>resume</c> / <c>worker</c>, also when the process is killed around the completing commit.
/// </summary>
public sealed class TriggerCommandTests : IDisposable
{
    // 'review' outputs a JSON verdict; 'deploy' records every run of its node with its input.
    private const string Review = """
        name: review
        nodes:
          check:
            run: |-
              printf '{"approved": %s, "pr": %s, "title": "Fix it"}' "${APPROVED:-true}" "${PR:-42}"
            outputs: json
        """;

    private const string Deploy = """
        name: deploy
        inputs:
          pr: { type: int }
          title: { type: string, default: none }
        nodes:
          ship:
            run: echo "{{ inputs.pr }} {{ inputs.title }}" >> shipped.txt
        """;

    private readonly CliSandbox _sandbox = new();

    public TriggerCommandTests()
    {
        _sandbox.Write("review.yaml", Review);
        _sandbox.Write("deploy.yaml", Deploy);
    }

    public void Dispose() => _sandbox.Dispose();

    private async Task AddAsync(params string[] args)
    {
        var added = await _sandbox.RunAsync(["trigger", "add", .. args]);
        Assert.True(added.ExitCode == 0, added.ToString());
    }

    private async Task<IReadOnlyList<WorkflowRecord>> OfTypeAsync(string type)
    {
        await using var store = await _sandbox.OpenStoreAsync();
        return (await store.ListWorkflowsAsync(new WorkflowQuery { Types = [type] })).Items;
    }

    private async Task<IReadOnlyList<string>> EventTypesAsync(string workflowId)
    {
        var trace = await _sandbox.RunAsync("trace", workflowId);
        Assert.True(trace.ExitCode == 0, trace.ToString());
        return trace.StdoutLines.Select(l => JsonDocument.Parse(l).RootElement.GetProperty("type").GetString()!).ToList();
    }

    [Fact]
    public async Task Trigger_AddListShowDisableEnableRemove_RoundTrips()
    {
        await AddAsync("deploy-approved", "--when-type", "review", "--if", "output.approved and output.pr > 0", "--start", "deploy.yaml",
            "--input", "pr=output.pr", "--input", "title='Deploy: ' + output.title");

        var list = await _sandbox.RunAsync("trigger", "list");
        var shown = await _sandbox.RunAsync("trigger", "show", "deploy-approved", "--json");
        var disabled = await _sandbox.RunAsync("trigger", "disable", "deploy-approved");
        var listedDisabled = await _sandbox.RunAsync("trigger", "list", "--json");
        var enabled = await _sandbox.RunAsync("trigger", "enable", "deploy-approved");
        var removed = await _sandbox.RunAsync("trigger", "remove", "deploy-approved");
        var afterRemove = await _sandbox.RunAsync("trigger", "list", "--json");

        Assert.True(list.ExitCode == 0, list.ToString());
        Assert.Equal(
            ["NAME\tWHEN\tSTATUS\tIF\tSTART\tINPUT\tENABLED", "deploy-approved\ttype review\tcompleted\toutput.approved and output.pr > 0\tdeploy\tpr=output.pr, title='Deploy: ' + output.title\tyes"],
            list.StdoutLines);
        Assert.True(shown.ExitCode == 0, shown.ToString());
        var trigger = JsonDocument.Parse(shown.Stdout).RootElement;
        Assert.Equal(("review", "Completed", "deploy", "output.pr"), (trigger.GetProperty("sourceType").GetString(), trigger.GetProperty("onStatus").GetString(),
            trigger.GetProperty("targetType").GetString(), trigger.GetProperty("input").GetProperty("pr").GetString()));
        Assert.Equal((0, 0, 0), (disabled.ExitCode, enabled.ExitCode, removed.ExitCode));
        Assert.False(JsonDocument.Parse(listedDisabled.Stdout).RootElement[0].GetProperty("enabled").GetBoolean());
        Assert.Equal(0, JsonDocument.Parse(afterRemove.Stdout).RootElement.GetArrayLength());

        // The target's file was recorded, so a worker anywhere can run what the trigger starts.
        await using var store = await _sandbox.OpenStoreAsync();
        Assert.Contains(await store.ListValuesAsync("ratchet.definitions"), e => e.Key.StartsWith("deploy@", StringComparison.Ordinal));
    }

    [Fact]
    public async Task TriggerAdd_BadInput_ExitsTwoWithOneLineSayingWhatIsWrong()
    {
        var badCondition = await _sandbox.RunAsync("trigger", "add", "t", "--when-type", "review", "--if", "output.approved and", "--start", "deploy.yaml");
        var badInput = await _sandbox.RunAsync("trigger", "add", "t", "--when-type", "review", "--start", "deploy.yaml", "--input", "pr=output.(pr");
        var noEquals = await _sandbox.RunAsync("trigger", "add", "t", "--when-type", "review", "--start", "deploy.yaml", "--input", "pr");
        var twoSources = await _sandbox.RunAsync("trigger", "add", "t", "--when-type", "review", "--when-id", "r1", "--start", "deploy.yaml");
        var unknownType = await _sandbox.RunAsync("trigger", "add", "t", "--when-type", "review", "--start", "nothing-like-it");
        var badStatus = await _sandbox.RunAsync("trigger", "add", "t", "--when-type", "review", "--status", "pending", "--start", "deploy.yaml");
        var unknown = await _sandbox.RunAsync("trigger", "show", "nope");
        var unknownEnable = await _sandbox.RunAsync("trigger", "enable", "nope");
        var unknownRemove = await _sandbox.RunAsync("trigger", "remove", "nope");

        foreach (var result in new[] { badCondition, badInput, noEquals, twoSources, unknownType, badStatus, unknown, unknownEnable, unknownRemove })
        {
            Assert.True(result.ExitCode == 2, result.ToString());
            Assert.Single(result.StderrLines);
        }

        Assert.StartsWith("ratchet: error[invalid-trigger]: Trigger 't': its condition does not parse", badCondition.Stderr, StringComparison.Ordinal);
        Assert.Contains("at position 19", badCondition.Stderr, StringComparison.Ordinal);
        Assert.Contains("'pr'", badInput.Stderr, StringComparison.Ordinal);
        Assert.Contains("position", badInput.Stderr, StringComparison.Ordinal);
        Assert.Contains("FIELD=EXPR", noEquals.Stderr, StringComparison.Ordinal);
        Assert.Contains("exactly one of --when-type TYPE or --when-id ID", twoSources.Stderr, StringComparison.Ordinal);
        Assert.Contains("No workflow of type 'nothing-like-it' is recorded", unknownType.Stderr, StringComparison.Ordinal);
        Assert.Contains("error[trigger-not-found]: No trigger is named 'nope'", unknown.Stderr, StringComparison.Ordinal);
        Assert.Empty(await OfTypeAsync("deploy"));
        var list = await _sandbox.RunAsync("trigger", "list", "--json");
        Assert.Equal(0, JsonDocument.Parse(list.Stdout).RootElement.GetArrayLength());
    }

    [Fact]
    public async Task TriggerAdd_ClosingACycle_RefusedNamingItUnlessAllowed()
    {
        await AddAsync("review-deploy", "--when-type", "review", "--start", "deploy.yaml");

        var refused = await _sandbox.RunAsync("trigger", "add", "deploy-review", "--when-type", "deploy", "--start", "review.yaml");
        var allowed = await _sandbox.RunAsync("trigger", "add", "deploy-review", "--when-type", "deploy", "--start", "review.yaml", "--allow-cycle");

        Assert.True(refused.ExitCode == 2, refused.ToString());
        Assert.Contains("it closes a cycle: deploy → review → deploy", refused.Stderr, StringComparison.Ordinal);
        Assert.Contains("--allow-cycle", refused.Stderr, StringComparison.Ordinal);
        Assert.True(allowed.ExitCode == 0, allowed.ToString());
        var shown = JsonDocument.Parse((await _sandbox.RunAsync("trigger", "show", "deploy-review", "--json")).Stdout).RootElement;
        Assert.True(shown.GetProperty("allowCycle").GetBoolean());
    }

    [Fact]
    public async Task Run_SourceCompletes_StartsTargetOnceWhichAWorkerRuns_BothTracesShowIt()
    {
        await AddAsync("deploy-approved", "--when-type", "review", "--if", "output.approved and output.pr > 0", "--start", "deploy.yaml",
            "--input", "pr=output.pr", "--input", "title='Deploy: ' + output.title");

        var run = await _sandbox.RunAsync("run", "review.yaml", "--id", "review-1");

        Assert.True(run.ExitCode == 0, run.ToString());
        var deploy = Assert.Single(await OfTypeAsync("deploy"));
        Assert.Equal(WorkflowStatus.Pending, deploy.Status);
        Assert.Equal(42, deploy.Input!.Value.GetProperty("pr").GetInt32());
        Assert.Equal("Deploy: Fix it", deploy.Input!.Value.GetProperty("title").GetString());
        Assert.Contains($"Trigger deploy-approved started {deploy.Id} (type deploy); a `ratchet worker` runs it, or `ratchet resume {deploy.Id}`.", run.StderrLines);

        var worker = await _sandbox.RunAsync("worker", "--until-idle");

        Assert.True(worker.ExitCode == 0, worker.ToString());
        var done = Assert.Single(await OfTypeAsync("deploy"));
        Assert.Equal(WorkflowStatus.Completed, done.Status);
        Assert.Equal(["42 Deploy: Fix it"], _sandbox.ReadLines("shipped.txt"));
        Assert.Single(await EventTypesAsync("review-1"), t => t == "trigger-fired");
        Assert.Single(await EventTypesAsync(done.Id), t => t == "triggered");
    }

    [Fact]
    public async Task Run_ConditionFalse_StartsNothing()
    {
        await AddAsync("deploy-approved", "--when-type", "review", "--if", "output.approved", "--start", "deploy.yaml", "--input", "pr=output.pr");
        _sandbox.Environment["APPROVED"] = "false";

        var run = await _sandbox.RunAsync("run", "review.yaml", "--id", "review-1");

        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.Empty(await OfTypeAsync("deploy"));
        Assert.DoesNotContain(await EventTypesAsync("review-1"), t => t.StartsWith("trigger", StringComparison.Ordinal));
        Assert.DoesNotContain("Trigger", run.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Run_TransformFails_SourceStillCompletesAndTraceShowsTheFailure()
    {
        // A property of a string: parses, fails only when evaluated against the output.
        _sandbox.Environment["PR"] = "\"not a number\"";
        await AddAsync("broken", "--when-type", "review", "--start", "deploy.yaml", "--input", "pr=output.pr.number");

        var run = await _sandbox.RunAsync("run", "review.yaml", "--id", "review-1");

        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.Empty(await OfTypeAsync("deploy"));
        var trace = await _sandbox.RunAsync("trace", "review-1");
        var failed = Assert.Single(trace.StdoutLines.Select(l => JsonDocument.Parse(l).RootElement), e => e.GetProperty("type").GetString() == "trigger-failed");
        Assert.Equal("broken", failed.GetProperty("payload").GetProperty("trigger").GetString());
        Assert.Contains("pr", failed.GetProperty("payload").GetProperty("error").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Resume_AfterRunWasKilledInTheSourcesLastNode_StartsTargetExactlyOnce()
    {
        // The last node kills the `ratchet run` process (its shell's parent) the first time, so its result is never
        // committed: neither the completion nor the trigger's start can be in the store.
        _sandbox.Write("crashing.yaml", """
            name: crashing
            nodes:
              first:
                run: |-
                  printf '{"pr": 7}'
                outputs: json
              last:
                run: |-
                  echo last >> last-runs.txt; if [ ! -e killed ]; then touch killed; kill -9 $PPID; sleep 2; fi
            """);
        await AddAsync("deploy-after-crash", "--when-type", "crashing", "--start", "deploy.yaml", "--input", "pr=artifacts.first.pr");

        var killed = await _sandbox.RunAsync("run", "crashing.yaml", "--id", "crash-1");

        Assert.True(killed.ExitCode == 137, killed.ToString());
        await using (var store = await _sandbox.OpenStoreAsync())
        {
            Assert.Equal(WorkflowStatus.Running, (await store.GetRequiredWorkflowAsync("crash-1")).Status);
        }

        Assert.Empty(await OfTypeAsync("deploy"));

        var resumed = await _sandbox.RunAsync("resume", "crash-1");
        var again = await _sandbox.RunAsync("resume", "crash-1");
        var worker = await _sandbox.RunAsync("worker", "--until-idle");

        Assert.True(resumed.ExitCode == 0, resumed.ToString());
        Assert.Equal(["last", "last"], _sandbox.ReadLines("last-runs.txt"));
        var deploy = Assert.Single(await OfTypeAsync("deploy"));
        Assert.Equal(7, deploy.Input!.Value.GetProperty("pr").GetInt32());
        Assert.Contains($"Trigger deploy-after-crash started {deploy.Id} (type deploy)", resumed.Stderr, StringComparison.Ordinal);
        Assert.True(again.ExitCode == 2 && again.Stderr.Contains("nothing to resume", StringComparison.Ordinal), again.ToString());
        Assert.True(worker.ExitCode == 0, worker.ToString());
        Assert.Equal(WorkflowStatus.Completed, Assert.Single(await OfTypeAsync("deploy")).Status);

        // The trigger gave no title: the file's declared default applies, as it would on `ratchet run`.
        Assert.Equal(["7 none"], _sandbox.ReadLines("shipped.txt"));
        Assert.Single(await EventTypesAsync("crash-1"), t => t == "trigger-fired");
    }

    [Fact]
    public async Task Worker_KilledAfterTheSourceCompleted_TargetStillStartedExactlyOnce()
    {
        // The target's node kills its worker the first time: the source's completing commit (with the start) is
        // already in the store, and nothing may fire it again when the work is taken up after the crash.
        _sandbox.Write("deploy.yaml", """
            name: deploy
            inputs:
              pr: { type: int }
            nodes:
              ship:
                run: |-
                  echo "{{ inputs.pr }}" >> shipped.txt; if [ ! -e killed ]; then touch killed; kill -9 $PPID; sleep 2; fi
            """);
        await AddAsync("deploy-approved", "--when-type", "review", "--start", "deploy.yaml", "--input", "pr=output.pr");
        var created = await _sandbox.RunAsync("run", "review.yaml", "--id", "review-1", "--detach");
        Assert.True(created.ExitCode == 0, created.ToString());

        var killed = await _sandbox.RunAsync("worker");

        Assert.True(killed.ExitCode == 137, killed.ToString());
        var deploy = Assert.Single(await OfTypeAsync("deploy"));
        await using (var store = await _sandbox.OpenStoreAsync())
        {
            Assert.Equal(WorkflowStatus.Completed, (await store.GetRequiredWorkflowAsync("review-1")).Status);
            Assert.Equal(WorkflowStatus.Running, deploy.Status);
        }

        var resumed = await _sandbox.RunAsync("resume", deploy.Id);
        var worker = await _sandbox.RunAsync("worker", "--until-idle");

        Assert.True(resumed.ExitCode == 0, resumed.ToString());
        Assert.True(worker.ExitCode == 0, worker.ToString());
        var done = Assert.Single(await OfTypeAsync("deploy"));
        Assert.Equal(WorkflowStatus.Completed, done.Status);
        Assert.Equal(["42", "42"], _sandbox.ReadLines("shipped.txt"));
        Assert.Single(await EventTypesAsync("review-1"), t => t == "trigger-fired");
    }
}
