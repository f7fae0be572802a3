using System.Diagnostics;
using System.Text;

namespace Ratchet.Yaml.Tests;

/// <summary>YAML workflows compiled and run through the engine on a temporary SQLite store: real shell commands.</summary>
public sealed class ShellWorkflowTests : IDisposable
{
    private readonly Scratch _scratch = new();

    public void Dispose() => _scratch.Dispose();

    private async Task<YamlRun> StartAsync(string yaml, string name = "flow.yaml") =>
        await YamlRun.StartAsync(_scratch, _scratch.Write(name, yaml));

    [Fact]
    public async Task Run_JsonTextAndNoneOutputs_BecomeTheNodesArtifacts()
    {
        await using var run = await StartAsync("""
            name: outputs
            nodes:
              data:
                run: |-
                  printf '{"branch": "fix/1", "files": ["a.c", "b.c"]}\n'
                outputs: json
              words:
                run: printf 'line one\nline two\n\n'
              quiet:
                run: echo ignored; exit 0
                outputs: none
            """);

        var workflow = await run.RunAsync();

        Assert.Equal(WorkflowStatus.Completed, workflow.Status);
        Assert.Equal("fix/1", workflow.Artifacts["data"].GetProperty("branch").GetString());
        Assert.Equal(2, workflow.Artifacts["data"].GetProperty("files").GetArrayLength());
        Assert.Equal("line one\nline two", workflow.Artifacts["words"].GetString());
        Assert.Equal(0, workflow.Artifacts["quiet"].GetInt32());
    }

    [Fact]
    public async Task Run_JsonOutputThatIsNotJson_FailsTheNodeSayingSo()
    {
        await using var run = await StartAsync("""
            name: badjson
            nodes:
              data:
                run: echo 'not json'
                outputs: json
            """);

        var workflow = await run.RunAsync();

        Assert.Equal(WorkflowStatus.Failed, workflow.Status);
        Assert.Equal("data", workflow.Error?.Node);
        Assert.Contains("declares 'outputs: json' but its standard output is not JSON", workflow.Error?.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Run_JsonOutputNestedDeeperThanTheLimit_FailsTheNodeSayingHowDeepNotThatItIsNotJson()
    {
        await using var run = await StartAsync("""
            name: deep
            inputs:
              data: json
            nodes:
              shallow:
                run: python3 -c "print('[' * 64 + ']' * 64)"
                outputs: json
              reuse:
                run: printf '%s' {{ len(artifacts.shallow) }} {{ len(inputs.data) }}
              deep:
                run: python3 -c "print('[' * 100 + ']' * 100)"
                outputs: json
            """);

        var workflow = await run.RunAsync("data=" + new string('[', 64) + new string(']', 64));

        Assert.Equal((WorkflowStatus.Failed, "deep"), (workflow.Status, workflow.Error?.Node));
        Assert.StartsWith("The standard output of node 'deep' is nested deeper than 64 levels of arrays and objects", workflow.Error?.Message, StringComparison.Ordinal);
        Assert.Equal("11", workflow.Artifacts["reuse"].GetString());
    }

    [Fact]
    public async Task Run_TemplatesOverInputsArtifactsAndWorkflow_RenderIntoTheCommand()
    {
        await using var run = await StartAsync("""
            name: templating
            inputs:
              issue: int
            nodes:
              plan:
                run: |-
                  printf '{"branch": "fix/%s"}' {{ inputs.issue }}
                outputs: json
              show:
                run: printf '%s|%s|%s' {{ artifacts.plan.branch }} {{ workflow.id }} {{ 'n-' + inputs.issue }}
            """);

        var workflow = await run.RunWithIdAsync("tmpl-1", "issue=42");

        Assert.Equal("fix/42|tmpl-1|n-42", workflow.Artifacts["show"].GetString());
    }

    [Fact]
    public async Task Run_ExitCodeWithTransition_FollowsItWithoutFailing()
    {
        await using var run = await StartAsync("""
            name: exits
            nodes:
              check:
                run: echo checking; exit 3
                on:
                  exit 3: needs-info
              proceed:
                run: echo proceed
                next: end
              needs-info:
                run: echo asked
            """);

        var workflow = await run.RunAsync();

        Assert.Equal(WorkflowStatus.Completed, workflow.Status);
        Assert.Equal(["check", "needs-info"], await run.NodesRunAsync(workflow.Id));
        Assert.Equal("checking", workflow.Artifacts["check"].GetString());
        var check = (await run.Store.GetStepsAsync(workflow.Id))[0];
        Assert.Equal(StepOutcome.Completed, check.Outcome);
        Assert.Equal(3, Assert.Single(await run.Store.GetCommandsAsync(workflow.Id), c => c.Node == "check").ExitCode);
    }

    [Fact]
    public async Task Run_ExitCodeTransitionWithJsonOutputsAndNothingPrinted_FollowsTheTransition()
    {
        // 'exit N' is a result, not a failure: a command that answers only with its exit code still takes its path.
        await using var run = await StartAsync("""
            name: exitjson
            nodes:
              check:
                run: exit 3
                outputs: json
                on:
                  exit 3: needs-info
              proceed:
                run: echo proceed
                next: end
              needs-info:
                run: echo asked
            """);

        var workflow = await run.RunAsync();

        Assert.Equal(WorkflowStatus.Completed, workflow.Status);
        Assert.Equal(["check", "needs-info"], await run.NodesRunAsync(workflow.Id));
    }

    [Fact]
    public async Task Run_NonZeroExitWithoutTransition_FailsWithTheCodeAndTheLastErrorLine()
    {
        await using var run = await StartAsync("""
            name: fails
            nodes:
              build:
                run: |-
                  echo 'compiling' >&2; echo 'error: missing semicolon' >&2; exit 4
            """);

        var workflow = await run.RunAsync();

        Assert.Equal(WorkflowStatus.Failed, workflow.Status);
        Assert.Equal(("build", nameof(CommandFailedException)), (workflow.Error?.Node, workflow.Error?.Type));
        Assert.Contains("exited with code 4: error: missing semicolon", workflow.Error?.Message, StringComparison.Ordinal);
        Assert.Contains(run.LogPath(workflow.Id, "build"), workflow.Error?.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Run_FailingCommandWithJsonOutputs_ReportsTheExitCodeNotTheMissingJson()
    {
        await using var run = await StartAsync("""
            name: failsjson
            nodes:
              build:
                run: |-
                  echo 'error: no compiler' >&2; exit 2
                outputs: json
            """);

        var workflow = await run.RunAsync();

        Assert.Equal(WorkflowStatus.Failed, workflow.Status);
        Assert.Contains("exited with code 2: error: no compiler", workflow.Error?.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Run_ConditionsOnOutput_TakeTheFirstThatHoldsElseTheSuccessPath()
    {
        await using var run = await StartAsync("""
            name: conditions
            inputs:
              status: string
            nodes:
              check:
                run: |-
                  printf '{"status": "%s", "count": 3}' {{ inputs.status }}
                outputs: json
                on:
                  "output.status == 'done' and output.count > 2": finish
                  "output.status == 'done'": never
                  "contains(output.status, 'retry')": again
                next: fallback
              again:
                run: echo again
                next: end
              finish:
                run: echo finish
                next: end
              never:
                run: echo never
                next: end
              fallback:
                run: echo fallback
            """);

        var done = await run.RunAsync("status=done");
        var retry = await run.RunAsync("status=please-retry");
        var other = await run.RunAsync("status=other");

        Assert.Equal(["check", "finish"], await run.NodesRunAsync(done.Id));
        Assert.Equal(["check", "again"], await run.NodesRunAsync(retry.Id));
        Assert.Equal(["check", "fallback"], await run.NodesRunAsync(other.Id));
        Assert.All([done, retry, other], w => Assert.Equal(WorkflowStatus.Completed, w.Status));
    }

    [Fact]
    public async Task Run_BoundedLoopOnACondition_StopsWhenTheBoundIsReached()
    {
        await using var run = await StartAsync("""
            name: loop
            nodes:
              fix:
                run: |-
                  printf '{"round": %s}' $(( ${PREV:-0} + 1 ))
                env: { PREV: "{{ artifacts.test.round }}" }
                outputs: json
              test:
                run: |-
                  printf '{"passed": false, "round": %s}' {{ artifacts.fix.round }}
                outputs: json
                on:
                  "output.round < 3": fix
                next: give-up
              give-up:
                run: echo gave up
                fails_workflow: true
            """);

        var workflow = await run.RunAsync();

        Assert.Equal(WorkflowStatus.Failed, workflow.Status);
        Assert.Equal(["fix", "test", "fix", "test", "fix", "test", "give-up"], await run.NodesRunAsync(workflow.Id));
        Assert.Equal(3, workflow.Artifacts["test"].GetProperty("round").GetInt32());
    }

    [Fact]
    public async Task Run_FailurePath_RunsTheHandlerAndFailsTheWorkflowWithTheOriginalError()
    {
        await using var run = await StartAsync("""
            name: failurepath
            nodes:
              build:
                run: echo 'broken build' >&2; exit 1
                on: { failure: report }
              ship:
                run: echo shipped
                next: end
              report:
                run: echo "reporting"
                fails_workflow: true
            """);

        var workflow = await run.RunAsync();

        Assert.Equal(WorkflowStatus.Failed, workflow.Status);
        Assert.Equal(["build", "report"], await run.NodesRunAsync(workflow.Id));
        Assert.Equal("reporting", workflow.Artifacts["report"].GetString());
        Assert.Equal([StepOutcome.Failed, StepOutcome.Completed], (await run.Store.GetStepsAsync(workflow.Id)).Select(s => s.Outcome));
    }

    [Fact]
    public async Task Run_FailingThenSucceeding_RetriesWithTheAttemptNumber()
    {
        await using var run = await StartAsync("""
            name: flaky
            nodes:
              flaky:
                run: echo "attempt $RATCHET_ATTEMPT"; [ "$RATCHET_ATTEMPT" -ge 3 ] || { echo "not yet" >&2; exit 1; }
                retry: { max_attempts: 3, delay: 10ms, jitter: 0 }
            """);

        var workflow = await run.RunAsync();

        Assert.Equal(WorkflowStatus.Completed, workflow.Status);
        Assert.Equal("attempt 3", workflow.Artifacts["flaky"].GetString());
        var steps = await run.Store.GetStepsAsync(workflow.Id);
        Assert.Equal([(1, StepOutcome.Failed), (2, StepOutcome.Failed), (3, StepOutcome.Completed)], steps.Select(s => (s.Attempt, s.Outcome)));
        var commands = await run.Store.GetCommandsAsync(workflow.Id);
        Assert.Equal([(1, 1), (2, 1), (3, 0)], commands.Select(c => (c.Attempt, c.ExitCode ?? -1)));
        Assert.Equal(2, (await run.Store.GetEventsAsync(workflow.Id)).Count(e => e.Type == AuditEventTypes.RetryScheduled));
    }

    [Fact]
    public async Task Run_RetriesExhausted_FailsAfterMaxAttempts()
    {
        await using var run = await StartAsync("""
            name: doomed
            defaults:
              retry: { max_attempts: 2, delay: 10ms, jitter: 0 }
            nodes:
              doomed:
                run: echo "attempt $RATCHET_ATTEMPT" >> attempts.txt; exit 7
            """);

        var workflow = await run.RunAsync();

        Assert.Equal(WorkflowStatus.Failed, workflow.Status);
        Assert.Equal(["attempt 1", "attempt 2"], await File.ReadAllLinesAsync(_scratch.File("attempts.txt")));
        Assert.Contains("exited with code 7", workflow.Error?.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Run_NodeOverItsTimeout_FailsWithTimeoutAndKillsItsProcessTree()
    {
        await using var run = await StartAsync("""
            name: slow
            nodes:
              slow:
                run: sleep 5 & echo $! > sleeper.pid; wait; echo finished > finished.txt
                timeout: 200ms
            """);

        var clock = Stopwatch.StartNew();
        var workflow = await run.RunAsync();
        clock.Stop();

        Assert.Equal(WorkflowStatus.Failed, workflow.Status);
        Assert.Equal("timeout", workflow.Error?.Type);
        Assert.Contains("ran longer than", workflow.Error?.Message, StringComparison.Ordinal);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(4), $"The timed-out node took {clock.Elapsed} to fail.");
        var sleeper = int.Parse(await File.ReadAllTextAsync(_scratch.File("sleeper.pid")), System.Globalization.CultureInfo.InvariantCulture);
        Assert.True(await Probe.EventuallyAsync(() => Probe.IsGone(sleeper), seconds: 2), $"The command's child process {sleeper} outlived its node.");
        await Task.Delay(TimeSpan.FromSeconds(0.3));
        Assert.False(File.Exists(_scratch.File("finished.txt")));
        var command = Assert.Single(await run.Store.GetCommandsAsync(workflow.Id));
        Assert.Null(command.ExitCode);
    }

    [Fact]
    public async Task Run_Command_GetsEnvRatchetVariablesAndTheStateOnStandardInput()
    {
        _scratch.Script("echo-state.sh", """
            state=$(cat)
            printf '{"vars": "%s|%s|%s|%s|%s|%s|%s|%s", "dir": "%s", "stdin": %s}\n' \
              "$RATCHET_WORKFLOW_ID" "$RATCHET_WORKFLOW_TYPE" "$RATCHET_NODE" "$RATCHET_ATTEMPT" "$RATCHET_IDEMPOTENCY_KEY" \
              "$RATCHET_INPUT_ISSUE" "$RATCHET_INPUT_REPO_NAME" "$GREETING-$LEVEL" "$RATCHET_RUN_DIR" "$state"
            """);
        await using var run = await StartAsync("""
            name: envs
            inputs:
              issue: int
              repo-name: { type: string, default: "a/b" }
            defaults:
              env: { GREETING: hello }
            nodes:
              first:
                run: |-
                  printf '{"branch": "b1"}'
                outputs: json
              echo:
                run: ./echo-state.sh
                env: { LEVEL: "level-{{ inputs.issue }}" }
                outputs: json
            """);

        var workflow = await run.RunWithIdAsync("env-1", "issue=7");

        Assert.Equal(WorkflowStatus.Completed, workflow.Status);
        var echoed = workflow.Artifacts["echo"];
        Assert.Equal("env-1|envs|echo|1|env-1/echo/1|7|a/b|hello-level-7", echoed.GetProperty("vars").GetString());
        Assert.Equal(Path.Combine(_scratch.File("runs"), "env-1"), echoed.GetProperty("dir").GetString());
        var state = echoed.GetProperty("stdin");
        Assert.Equal(("env-1", "envs", "echo", 1), (state.GetProperty("workflow").GetProperty("id").GetString(), state.GetProperty("workflow").GetProperty("type").GetString(),
            state.GetProperty("workflow").GetProperty("node").GetString(), state.GetProperty("workflow").GetProperty("attempt").GetInt32()));
        Assert.Equal(_scratch.Path, state.GetProperty("workflow").GetProperty("dir").GetString());
        Assert.Equal(7, state.GetProperty("inputs").GetProperty("issue").GetInt32());
        Assert.Equal("a/b", state.GetProperty("inputs").GetProperty("repo-name").GetString());
        Assert.Equal("b1", state.GetProperty("artifacts").GetProperty("first").GetProperty("branch").GetString());
    }

    [Fact]
    public async Task Run_HostileInputInTemplate_ArrivesAsOneLiteralArgumentAndRunsNothing()
    {
        var marker = _scratch.File("pwned");
        var hostile = $"'; touch {marker}; '";
        _scratch.Script("args.sh", """
            printf '%s\n' "$#"
            for arg in "$@"; do printf '[%s]\n' "$arg"; done
            """);
        await using var run = await StartAsync("""
            name: quoting
            inputs:
              text: string
              other: string
            nodes:
              args:
                run: ./args.sh {{ inputs.text }} {{ inputs.other }}
                env: { VIA_ENV: "{{ inputs.text }}" }
            """);

        var workflow = await run.RunAsync($"text={hostile}", "other=$(touch " + marker + ") `touch " + marker + "` $HOME \"q\" \\n");

        Assert.Equal(WorkflowStatus.Completed, workflow.Status);
        Assert.Equal($"2\n[{hostile}]\n[$(touch {marker}) `touch {marker}` $HOME \"q\" \\n]", workflow.Artifacts["args"].GetString());
        Assert.False(File.Exists(marker), "A hostile input value was run as a command.");
        Assert.False(File.Exists("/tmp/pwned"));
    }

    public static TheoryData<string> HostileInputs => new(
        "$(touch MARKER)",
        "`touch MARKER`",
        "\"; touch MARKER; echo \"",
        "'; touch MARKER; '",
        "a\ntouch MARKER\nb",
        "\\\"$(touch MARKER)\\\"",
        "${IFS}$(touch MARKER)$HOME",
        "x'\"`$\\\n; touch MARKER #");

    [Theory]
    [MemberData(nameof(HostileInputs))]
    public async Task Run_HostileInputInDoubleQuotesSubstitutionOrQuotedHeredoc_ArrivesAsTextAndRunsNothing(string hostile)
    {
        var marker = _scratch.File("pwned");
        var value = hostile.Replace("MARKER", marker, StringComparison.Ordinal);
        await using var run = await StartAsync("""
            name: contexts
            inputs:
              v: string
            nodes:
              quoted:
                run: printf '%s' "Fixing {{ inputs.v }}!"
              bare:
                run: printf '%s' {{ inputs.v }}
              substituted:
                run: printf '%s' "$(printf '[%s]' {{ inputs.v }})"
              heredoc:
                run: |-
                  cat <<'EOF'
                  <{{ inputs.v }}>
                  EOF
            """);

        var workflow = await run.RunAsync($"v={value}");

        Assert.Equal(WorkflowStatus.Completed, workflow.Status);
        Assert.Equal(
            [$"Fixing {value}!", value, $"[{value}]", $"<{value}>"],
            new[] { "quoted", "bare", "substituted", "heredoc" }.Select(n => workflow.Artifacts[n].GetString()));
        Assert.False(File.Exists(marker), "A hostile input value was run as a command.");
    }

    [Fact]
    public async Task Run_ValueThatWouldEndItsHeredoc_FailsTheNodeAndRunsNothing()
    {
        var marker = _scratch.File("pwned");
        await using var run = await StartAsync("""
            name: heredoc
            inputs:
              v: string
            nodes:
              write:
                run: |-
                  cat > notes.md <<'EOF'
                  {{ inputs.v }}
                  EOF
            """);

        var workflow = await run.RunAsync($"v=notes\nEOF\ntouch {marker}");

        Assert.Equal((WorkflowStatus.Failed, "write"), (workflow.Status, workflow.Error?.Node));
        Assert.Contains("makes a line 'EOF', which would end the here-document early", workflow.Error?.Message, StringComparison.Ordinal);
        Assert.False(File.Exists(marker), "A value's line ran as a command.");
        Assert.Empty(await run.Store.GetCommandsAsync(workflow.Id));
    }

    [Fact]
    public async Task Run_SecretEnvironmentValue_IsMaskedInCommandRecordEventsAndLog()
    {
        const string secret = "s3cr3t-Token-9f8e7d";
        await using var run = await StartAsync("""
            name: secrets
            nodes:
              leak:
                run: echo "out $API_TOKEN"; echo "err $API_TOKEN" >&2; echo "literal SECRET"
                env: { API_TOKEN: "SECRET" }
                outputs: none
            """.Replace("SECRET", secret, StringComparison.Ordinal));

        var workflow = await run.RunAsync();

        Assert.Equal(WorkflowStatus.Completed, workflow.Status);
        var command = Assert.Single(await run.Store.GetCommandsAsync(workflow.Id));
        Assert.Contains(SecretRedactor.Mask, command.CommandLine, StringComparison.Ordinal);
        Assert.Contains($"out {SecretRedactor.Mask}", command.StdoutTail, StringComparison.Ordinal);
        Assert.Contains($"literal {SecretRedactor.Mask}", command.StdoutTail, StringComparison.Ordinal);
        Assert.Contains($"err {SecretRedactor.Mask}", command.StderrTail, StringComparison.Ordinal);
        Assert.DoesNotContain(secret, command.CommandLine + command.StdoutTail + command.StderrTail, StringComparison.Ordinal);

        var events = await run.Store.GetEventsAsync(workflow.Id);
        var executed = Assert.Single(events, e => e.Type == AuditEventTypes.CommandExecuted);
        Assert.Contains(SecretRedactor.Mask, executed.Payload?.GetProperty("command").GetString(), StringComparison.Ordinal);
        Assert.All(events, e => Assert.DoesNotContain(secret, e.Payload?.GetRawText() ?? "", StringComparison.Ordinal));

        var log = await File.ReadAllBytesAsync(run.LogPath(workflow.Id, "leak"));
        Assert.True(log.Length > 0);
        Assert.Equal(-1, log.AsSpan().IndexOf(Encoding.UTF8.GetBytes(secret)));
        Assert.Contains($"[stderr] err {SecretRedactor.Mask}", Encoding.UTF8.GetString(log), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Run_SecretInputWithAQuote_IsMaskedInTheShellQuotedCommandLineTooNotOnlyInItsOutput()
    {
        // RATCHET_INPUT_TOKEN's name makes the input a secret; in `run:` it is rendered as 'pass'\''word_42'.
        const string secret = "pass'word_42";
        await using var run = await StartAsync("""
            name: quoted-secret
            inputs:
              token: string
            nodes:
              use:
                run: echo {{ inputs.token }} && echo "$RATCHET_INPUT_TOKEN" >&2
                outputs: none
            """);

        var workflow = await run.RunAsync($"token={secret}");

        Assert.Equal(WorkflowStatus.Completed, workflow.Status);
        var command = Assert.Single(await run.Store.GetCommandsAsync(workflow.Id));
        Assert.Equal($"echo '{SecretRedactor.Mask}' && echo \"$RATCHET_INPUT_TOKEN\" >&2", command.CommandLine);
        Assert.Equal(SecretRedactor.Mask, command.StdoutTail.Trim());
        Assert.Equal(SecretRedactor.Mask, command.StderrTail.Trim());
        var events = await run.Store.GetEventsAsync(workflow.Id);
        Assert.Equal(command.CommandLine, Assert.Single(events, e => e.Type == AuditEventTypes.CommandExecuted).Payload?.GetProperty("command").GetString());
        Assert.All(events, e => Assert.DoesNotContain("word_42", e.Payload?.GetRawText() ?? "", StringComparison.Ordinal));
        var log = await File.ReadAllTextAsync(run.LogPath(workflow.Id, "use"));
        Assert.Contains($"echo '{SecretRedactor.Mask}'", log, StringComparison.Ordinal);
        Assert.DoesNotContain("word_42", log, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Run_WithheldVariable_IsNotInheritedButANodesEnvMaySetIt()
    {
        Assert.NotNull(Environment.GetEnvironmentVariable("HOME"));
        var path = _scratch.Write("flow.yaml", """
            name: withheld
            nodes:
              inherit:
                run: echo "home=${HOME-none}"
              own:
                run: echo "home=${HOME-none}"
                env: { HOME: /elsewhere }
            """);
        await using var run = await YamlRun.StartAsync(_scratch, path, configure: shell => shell with { WithheldVariables = ["HOME"] });

        var workflow = await run.RunAsync();

        Assert.Equal(WorkflowStatus.Completed, workflow.Status);
        Assert.Equal(("home=none", "home=/elsewhere"), (workflow.Artifacts["inherit"].GetString(), workflow.Artifacts["own"].GetString()));
    }

    [Fact]
    public async Task Run_EachNode_RecordsItsCommandWithDirectoryExitCodeAndTails()
    {
        _scratch.Write("sub/keep.txt", "x");
        await using var run = await StartAsync("""
            name: records
            nodes:
              one:
                run: echo one; echo warn >&2
              two:
                run: pwd
                working_directory: sub
              three:
                run: exit 5
                on: { exit 5: end }
            """);

        var workflow = await run.RunAsync();

        Assert.Equal(WorkflowStatus.Completed, workflow.Status);
        var commands = await run.Store.GetCommandsAsync(workflow.Id);
        Assert.Equal(
            [("one", "echo one; echo warn >&2", _scratch.Path, 0, "one", "warn"), ("two", "pwd", _scratch.File("sub"), 0, _scratch.File("sub"), ""), ("three", "exit 5", _scratch.Path, 5, "", "")],
            commands.Select(c => (c.Node, c.CommandLine, c.WorkingDirectory, c.ExitCode ?? -1, c.StdoutTail, c.StderrTail)).ToArray());
        Assert.All(commands, c => Assert.Equal(1, c.Attempt));
        Assert.Equal(3, (await run.Store.GetEventsAsync(workflow.Id)).Count(e => e.Type == AuditEventTypes.CommandExecuted));
    }

    [Fact]
    public async Task Run_EachNode_WritesItsOwnLogFile()
    {
        await using var run = await StartAsync("""
            name: logs
            nodes:
              alpha:
                run: echo 'alpha out'; echo 'alpha err' >&2
              beta:
                run: echo 'beta out'
            """);

        var workflow = await run.RunAsync();

        var alpha = await File.ReadAllTextAsync(run.LogPath(workflow.Id, "alpha"));
        var beta = await File.ReadAllTextAsync(run.LogPath(workflow.Id, "beta"));
        Assert.Contains("attempt 1: echo 'alpha out'; echo 'alpha err' >&2", alpha, StringComparison.Ordinal);
        Assert.Contains("alpha out\n", alpha, StringComparison.Ordinal);
        Assert.Contains("[stderr] alpha err\n", alpha, StringComparison.Ordinal);
        Assert.Contains("== exit 0", alpha, StringComparison.Ordinal);
        Assert.DoesNotContain("beta", alpha, StringComparison.Ordinal);
        Assert.Contains("beta out\n", beta, StringComparison.Ordinal);
        Assert.DoesNotContain("alpha", beta, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Run_RetriedNode_AppendsEveryAttemptToItsLog()
    {
        await using var run = await StartAsync("""
            name: retrylog
            nodes:
              flaky:
                run: echo "try $RATCHET_ATTEMPT"; [ "$RATCHET_ATTEMPT" -ge 2 ]
                retry: { max_attempts: 2, delay: 10ms, jitter: 0 }
            """);

        var workflow = await run.RunAsync();

        var log = await File.ReadAllTextAsync(run.LogPath(workflow.Id, "flaky"));
        Assert.Equal(WorkflowStatus.Completed, workflow.Status);
        Assert.True(log.IndexOf("try 1", StringComparison.Ordinal) < log.IndexOf("try 2", StringComparison.Ordinal) && log.Contains("try 1", StringComparison.Ordinal));
        Assert.Contains("== exit 1", log, StringComparison.Ordinal);
        Assert.Contains("attempt 2:", log, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Run_MissingWorkingDirectory_FailsNamingIt()
    {
        await using var run = await StartAsync("""
            name: nodir
            nodes:
              a:
                run: pwd
                working_directory: does-not-exist
            """);

        var workflow = await run.RunAsync();

        Assert.Equal(WorkflowStatus.Failed, workflow.Status);
        Assert.Contains("does-not-exist", workflow.Error?.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Run_SubWorkflow_GetsItsWithInputsAndGivesBackItsLastOutput()
    {
        _scratch.Write("child.yaml", """
            name: child
            inputs:
              branch: string
            nodes:
              build:
                run: |-
                  printf '{"built": "%s", "parent": "%s"}' {{ inputs.branch }} "$RATCHET_WORKFLOW_TYPE"
                outputs: json
            """);
        await using var run = await StartAsync("""
            name: parent
            inputs:
              issue: int
            nodes:
              prepare:
                run: |-
                  printf '{"branch": "fix/%s"}' {{ inputs.issue }}
                outputs: json
              publish:
                workflow: child.yaml
                with:
                  branch: "{{ artifacts.prepare.branch }}"
              report:
                run: echo {{ artifacts.publish.built }}
            """, "parent.yaml");

        var workflow = await run.RunAsync("issue=9");

        Assert.Equal(WorkflowStatus.Completed, workflow.Status);
        Assert.Equal("fix/9", workflow.Artifacts["publish"].GetProperty("built").GetString());
        Assert.Equal("child", workflow.Artifacts["publish"].GetProperty("parent").GetString());
        Assert.Equal("fix/9", workflow.Artifacts["report"].GetString());
        var children = await run.Store.ListWorkflowsAsync(new WorkflowQuery { Types = ["child"] });
        var child = Assert.Single(children.Items);
        Assert.Equal((workflow.Id, WorkflowStatus.Completed), (child.ParentId, child.Status));
    }

    [Fact]
    public async Task Run_SubWorkflowWithOmittedInput_GetsTheChildsDefault()
    {
        _scratch.Write("child.yaml", """
            name: child
            inputs:
              greeting: { type: string, default: "hello" }
              name: string
            nodes:
              say:
                run: echo {{ inputs.greeting }} {{ inputs.name }}
            """);
        await using var run = await StartAsync("""
            name: parent
            nodes:
              call:
                workflow: child.yaml
                with: { name: "world" }
            """, "parent.yaml");

        var workflow = await run.RunAsync();

        Assert.Equal(WorkflowStatus.Completed, workflow.Status);
        Assert.Equal("hello world", workflow.Artifacts["call"].GetString());
    }

    [Fact]
    public async Task Run_SubWorkflowWithTypedInput_GetsItAsItsDeclaredType()
    {
        _scratch.Write("child.yaml", """
            name: child
            inputs:
              count: int
            nodes:
              check:
                run: echo checked
                on:
                  "inputs.count > 1": many
                next: few
              few:
                run: echo few
                next: end
              many:
                run: echo many
            """);
        await using var run = await StartAsync("""
            name: parent
            nodes:
              call:
                workflow: child.yaml
                with: { count: "{{ 2 + 1 }}" }
            """, "parent.yaml");

        var workflow = await run.RunAsync();

        Assert.Equal(WorkflowStatus.Completed, workflow.Status);
        Assert.Equal("many", workflow.Artifacts["call"].GetString());
    }

    [Fact]
    public async Task Run_Approval_ParksForAHumanThenRunsOnWhenApproved()
    {
        await using var run = await StartAsync("""
            name: approve
            nodes:
              ask:
                approval: Ship it?
                on: { rejected: stop }
              ship:
                run: echo shipped
                next: end
              stop:
                run: echo stopped
                fails_workflow: true
            """);

        var waiting = await run.RunAsync();
        Assert.Equal((WorkflowStatus.Waiting, WaitReason.Approval, "ask"), (waiting.Status, waiting.WaitReason, waiting.CurrentNode));

        await run.Engine.ApproveAsync(waiting.Id, "tester", "fine");
        var approved = await run.WaitAsync(waiting.Id);
        var rejectedStart = await run.RunAsync();
        await run.Engine.RejectAsync(rejectedStart.Id, "tester", "no");
        var rejected = await run.WaitAsync(rejectedStart.Id);

        Assert.Equal((WorkflowStatus.Completed, "shipped"), (approved.Status, approved.Artifacts["ship"].GetString()));
        Assert.Equal(WorkflowStatus.Failed, rejected.Status);
        Assert.Equal(["ask", "stop"], await run.NodesRunAsync(rejected.Id));
    }

    [Fact]
    public async Task Run_ApprovalPromptTemplate_IsRenderedWithTheStateItParksIn()
    {
        await using var run = await StartAsync("""
            name: templated-approval
            inputs:
              issue: int
              repo: { type: string, default: acme/widgets }
            nodes:
              plan:
                run: 'echo "{\"branch\": \"fix/$RATCHET_INPUT_ISSUE\"}"'
                outputs: json
              ask:
                approval: "Open a PR for #{{ inputs.issue }} in {{ inputs.repo }} from {{ artifacts.plan.branch }} ({{ workflow.node }}, attempt {{ workflow.attempt }})? {{{{ stays }}"
            """);

        var waiting = await run.RunAsync("issue=42");

        Assert.Equal((WorkflowStatus.Waiting, WaitReason.Approval), (waiting.Status, waiting.WaitReason));
        var parked = Assert.Single(await run.Store.GetEventsAsync(waiting.Id), e => e.Type == AuditEventTypes.Waiting);
        Assert.Equal("Open a PR for #42 in acme/widgets from fix/42 (ask, attempt 1)? {{ stays }}", parked.Payload!.Value.GetProperty("prompt").GetString());

        // The definition keeps the prompt as written: it is what its version and graph are made of.
        Assert.StartsWith("Open a PR for #{{ inputs.issue }}", Assert.IsType<Ratchet.Engine.ApprovalNodeDefinition>(run.Compiled[0].Definition.Nodes.Single(n => n.Name == "ask")).Prompt, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Run_ApprovalPromptThatFailsToRender_StillParksShowingTheTemplateAndTheProblem()
    {
        await using var run = await StartAsync("""
            name: broken-prompt
            nodes:
              ask:
                approval: "Ship {{ number('many') + 1 }} copies?"
            """);

        var waiting = await run.RunAsync();

        Assert.Equal((WorkflowStatus.Waiting, WaitReason.Approval), (waiting.Status, waiting.WaitReason));
        var prompt = Assert.Single(await run.Store.GetEventsAsync(waiting.Id), e => e.Type == AuditEventTypes.Waiting).Payload!.Value.GetProperty("prompt").GetString();
        Assert.StartsWith("Ship {{ number('many') + 1 }} copies? (the prompt could not be rendered: ", prompt, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Run_ShellOptionsTailBytes_CapsTheRecordedOutput()
    {
        var path = _scratch.Write("big.yaml", """
            name: big
            nodes:
              big:
                run: i=0; while [ $i -lt 200 ]; do echo "line $i"; i=$((i+1)); done
                outputs: none
            """);
        await using var run = await YamlRun.StartAsync(_scratch, path, configure: o => o with { TailBytes = 100 });

        var workflow = await run.RunAsync();

        var command = Assert.Single(await run.Store.GetCommandsAsync(workflow.Id));
        Assert.True(command.StdoutTail.Length <= 100, $"The tail is {command.StdoutTail.Length} characters.");
        Assert.EndsWith("line 199", command.StdoutTail, StringComparison.Ordinal);
        var log = await File.ReadAllTextAsync(run.LogPath(workflow.Id, "big"));
        Assert.Contains("line 0\n", log, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Run_OneLineLongerThanTheTail_RecordsOnlyItsLastCharacters()
    {
        var path = _scratch.Write("long.yaml", """
            name: long
            nodes:
              long:
                run: head -c 1000000 /dev/zero | tr '\0' y; echo END; echo 'short error' >&2
                outputs: none
            """);
        await using var run = await YamlRun.StartAsync(_scratch, path, configure: o => o with { TailBytes = 100 });

        var workflow = await run.RunAsync();

        Assert.Equal(WorkflowStatus.Completed, workflow.Status);
        var command = Assert.Single(await run.Store.GetCommandsAsync(workflow.Id));
        Assert.Equal((new string('y', 97) + "END", "short error"), (command.StdoutTail, command.StderrTail));
        // The long line is logged as it comes, so standard error's line may land inside it; the rest is the line whole.
        var log = await File.ReadAllLinesAsync(run.LogPath(workflow.Id, "long"));
        Assert.Equal(new string('y', 1000000) + "END", string.Concat(log[1..^1].Where(l => l != "[stderr] short error")));
        Assert.Contains("[stderr] short error", log);
    }

    [Fact]
    public async Task Run_OneHugeLineFullOfSecrets_MasksEachInTheLogAndTailAndCutsTheLogAtMaxLogBytes()
    {
        const string secret = "s3cr3t-Token-9f8e7d";
        var path = _scratch.Write("secrets.yaml", """
            name: secrets
            nodes:
              leak:
                run: awk 'BEGIN { for (i = 0; i < 300000; i++) printf "ab%s", ENVIRON["API_TOKEN"] }'
                env: { API_TOKEN: "SECRET" }
                outputs: none
            """.Replace("SECRET", secret, StringComparison.Ordinal));
        await using var run = await YamlRun.StartAsync(_scratch, path, configure: o => o with { MaxLogBytes = 1 << 20 });

        var workflow = await run.RunAsync();

        Assert.Equal(WorkflowStatus.Completed, workflow.Status);
        var masked = string.Concat(Enumerable.Repeat("ab" + SecretRedactor.Mask, 300000));
        var command = Assert.Single(await run.Store.GetCommandsAsync(workflow.Id));
        Assert.Equal(masked[^4096..], command.StdoutTail);
        var log = await File.ReadAllLinesAsync(run.LogPath(workflow.Id, "leak"));
        Assert.Equal(
            [masked[..(1 << 20)], "== log cut at 1 MiB: the rest of this attempt's output is not logged", $"== 440.8 KiB ({masked.Length - (1 << 20)} bytes) of output not logged: the log keeps 1 MiB of output per attempt"],
            log[1..^1]);
        Assert.StartsWith("== exit 0 after ", log[^1], StringComparison.Ordinal);
    }

    [Fact]
    public async Task Run_StateScopeInCondition_SeesInputsAndArtifacts()
    {
        await using var run = await StartAsync("""
            name: scope
            inputs:
              limit: int
            nodes:
              measure:
                run: |-
                  echo '{"size": 10}'
                outputs: json
                on:
                  "output.size > inputs.limit": big
                next: small
              small:
                run: echo small
                next: end
              big:
                run: echo big
            """);

        var big = await run.RunAsync("limit=5");
        var small = await run.RunAsync("limit=50");

        Assert.Equal("big", big.Artifacts.Keys.Single(k => k is "big" or "small"));
        Assert.Equal("small", small.Artifacts.Keys.Single(k => k is "big" or "small"));
        Assert.Equal(10, big.Artifacts["measure"].GetProperty("size").GetInt32());
    }
}
