namespace Ratchet.Yaml.Tests;

/// <summary>What the parser accepts, and how it reports what it refuses: file, line, column, and what to write instead.</summary>
public sealed class WorkflowFileParserTests : IDisposable
{
    private readonly Scratch _scratch = new();

    public void Dispose() => _scratch.Dispose();

    private static WorkflowFileException Refused(string yaml, string path = "/srv/demo/flow.yaml") =>
        Assert.Throws<WorkflowFileException>(() => WorkflowFileParser.Parse(yaml, path));

    [Fact]
    public void Parse_EveryKey_ReadsFileAsWritten()
    {
        const string yaml = """
            name: full
            description: every key
            version: "7"
            workspace: isolated
            timeout: 1h30m
            inputs:
              issue: int
              repo: { type: string, default: "a/b", description: the repo }
              dry: { type: bool, required: false }
            defaults:
              retry: { max_attempts: 4, delay: 2s, backoff: 3, max_delay: 1m, jitter: 0 }
              timeout: 5m
              env: { MODE: test }
              working_directory: src
            nodes:
              plan:
                description: plans
                run: ./plan.sh {{ inputs.issue }}
                outputs: json
                retry: 2
                timeout: 500ms
                env: { LEVEL: "{{ inputs.repo }}" }
                working_directory: sub
                on:
                  "output.ok": build
                  exit 3: review
                  failure: report
              build:
                run: make
                outputs: none
                next: end
              review:
                approval: Looks right?
                on: { approved: build, rejected: report }
              report:
                run: ./report.sh
                agent: reporter
                fails_workflow: true
            """;

        var file = WorkflowFileParser.Parse(yaml, "/srv/demo/full.yaml");

        Assert.Equal(("full", "every key", "7", WorkspaceMode.Isolated, TimeSpan.FromMinutes(90)), (file.Name, file.Description, file.VersionLabel, file.Workspace, file.Timeout));
        Assert.Equal("/srv/demo", file.Directory);
        Assert.Equal(
            [("issue", InputType.Integer, true, (string?)null), ("repo", InputType.String, false, "\"a/b\""), ("dry", InputType.Boolean, false, null)],
            file.Inputs.Select(i => (i.Name, i.Type, i.Required, i.Default?.GetRawText())).ToArray());
        Assert.Equal(new RetrySpec(4, TimeSpan.FromSeconds(2), 3, TimeSpan.FromMinutes(1), 0), file.Defaults.Retry);
        Assert.Equal((TimeSpan.FromMinutes(5), "src"), (file.Defaults.Timeout, file.Defaults.WorkingDirectory));
        Assert.Equal([new KeyValuePair<string, string>("MODE", "test")], file.Defaults.Env);

        Assert.Equal(["plan", "build", "review", "report"], file.Nodes.Select(n => n.Name));
        var plan = Assert.IsType<RunNodeSpec>(file.Nodes[0]);
        Assert.Equal(("run", "./plan.sh {{ inputs.issue }}", OutputMode.Json, 2, TimeSpan.FromMilliseconds(500), "sub", "plans"),
            (plan.Verb, plan.Command, plan.Outputs, plan.Retry!.MaxAttempts, plan.Timeout, plan.WorkingDirectory, plan.Description));
        Assert.Equal(new SourcePosition(16, 3), plan.Position);
        Assert.Equal([new KeyValuePair<string, string>("LEVEL", "{{ inputs.repo }}")], plan.Env);
        Assert.Equal(
            [(TransitionKind.Condition, "output.ok", "build", 0), (TransitionKind.ExitCode, "exit 3", "review", 3), (TransitionKind.Failure, "failure", "report", 0)],
            plan.Transitions.Select(t => (t.Kind, t.Key, t.Target, t.ExitCode)).ToArray());
        Assert.Equal((OutputMode.None, "end"), (Assert.IsType<RunNodeSpec>(file.Nodes[1]).Outputs, file.Nodes[1].Next));
        Assert.Equal(("approval", "Looks right?"), (file.Nodes[2].Verb, Assert.IsType<ApprovalNodeSpec>(file.Nodes[2]).Prompt));
        Assert.Equal([TransitionKind.Approved, TransitionKind.Rejected], file.Nodes[2].Transitions.Select(t => t.Kind));
        var report = Assert.IsType<RunNodeSpec>(file.Nodes[3]);
        Assert.Equal((true, "reporter", OutputMode.Text), (report.FailsWorkflow, report.Agent, report.Outputs));
    }

    [Fact]
    public void Parse_MalformedYaml_ReportsFileLineAndColumn()
    {
        const string yaml = """
            name: broken
            nodes:
              a:
                run: echo: [oops
            """;

        var error = Refused(yaml, "/srv/demo/broken.yaml");

        var problem = Assert.Single(error.Problems);
        Assert.Equal("/srv/demo/broken.yaml", problem.File);
        Assert.Equal(4, problem.Position?.Line);
        Assert.True(problem.Position?.Column > 0);
        Assert.Contains("not valid YAML", problem.Message, StringComparison.Ordinal);
        Assert.StartsWith($"/srv/demo/broken.yaml:4:{problem.Position?.Column}: ", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', error.Message);
    }

    [Fact]
    public void Load_MissingFile_SaysTheFileDoesNotExist()
    {
        var error = Assert.Throws<WorkflowFileException>(() => WorkflowFileParser.Load(_scratch.File("nowhere.yaml")));

        var problem = Assert.Single(error.Problems);
        Assert.Null(problem.Position);
        Assert.Contains("does not exist", problem.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_MisspelledNodeKey_SuggestsTheKnownKey()
    {
        const string yaml = """
            name: typo
            nodes:
              a:
                run: echo hi
                timout: 5s
            """;

        var problem = Assert.Single(Refused(yaml).Problems);

        Assert.Equal(new SourcePosition(5, 5), problem.Position);
        Assert.Contains("unknown key 'timout' in node 'a' (did you mean 'timeout'?)", problem.Message, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public void Parse_MisspelledTopLevelKey_SuggestsTheKnownKey()
    {
        const string yaml = """
            name: typo
            nodez:
              a: { run: echo hi }
            """;

        var problems = Refused(yaml).Problems;

        Assert.Contains(problems, p => p.Position == new SourcePosition(2, 1) && p.Message.Contains("did you mean 'nodes'?", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.Message.Contains("has no 'nodes:'", StringComparison.Ordinal));
    }

    [Fact]
    public void Parse_UnrelatedUnknownKey_ListsTheKnownKeys()
    {
        const string yaml = """
            name: typo
            nodes:
              a:
                run: echo hi
                banana: yes
            """;

        var problem = Assert.Single(Refused(yaml).Problems);

        Assert.StartsWith("Unknown key 'banana' in node 'a'", problem.Message, StringComparison.Ordinal);
        Assert.Contains("known keys are run, approval, workflow", problem.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_NextToUnknownNode_NamesTargetAndSuggestsClosest()
    {
        const string yaml = """
            name: targets
            nodes:
              build:
                run: make
                next: tset
              test:
                run: make test
            """;

        var problem = Assert.Single(Refused(yaml).Problems);

        Assert.Equal(new SourcePosition(5, 11), problem.Position);
        Assert.Contains("'next' of node 'build' goes to 'tset', which is not a node (did you mean 'test'?)", problem.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_OnTransitionToUnknownNode_IsRefusedAtItsKey()
    {
        const string yaml = """
            name: targets
            nodes:
              build:
                run: make
                on:
                  failure: nowhere
            """;

        var problem = Assert.Single(Refused(yaml).Problems);

        Assert.Equal(new SourcePosition(6, 7), problem.Position);
        Assert.Contains("'on: failure' of node 'build' goes to 'nowhere', which is not a node", problem.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_NodeWithoutKind_IsRefused()
    {
        const string yaml = """
            name: kinds
            nodes:
              idle:
                description: does nothing
            """;

        var problem = Assert.Single(Refused(yaml).Problems);

        Assert.Equal(new SourcePosition(3, 3), problem.Position);
        Assert.Contains("node 'idle' does nothing", problem.Message, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public void Parse_NodeWithTwoKinds_IsRefused()
    {
        const string yaml = """
            name: kinds
            nodes:
              both:
                run: make
                approval: Really?
            """;

        var problem = Assert.Single(Refused(yaml).Problems);

        Assert.Equal(new SourcePosition(3, 3), problem.Position);
        Assert.Contains("'run:' and 'approval:'", problem.Message, StringComparison.Ordinal);
        Assert.Contains("exactly one", problem.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("5 parsecs")]
    [InlineData("ten seconds")]
    [InlineData("5")]
    [InlineData("-1s")]
    public void Parse_BadNodeTimeout_IsRefusedWithAnExample(string duration)
    {
        var yaml = $"""
            name: durations
            nodes:
              a:
                run: make
                timeout: "{duration}"
            """;

        var problem = Assert.Single(Refused(yaml).Problems);

        Assert.Equal(5, problem.Position?.Line);
        Assert.StartsWith($"Timeout: '{duration}' is not a duration", problem.Message, StringComparison.Ordinal);
        Assert.Contains("e.g. 30s", problem.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_BadRetrySettings_ListsEachOne()
    {
        const string yaml = """
            name: retries
            nodes:
              a:
                run: make
                retry: { max_attempts: 0, delay: soon, jitter: 2 }
            """;

        var messages = Refused(yaml).Problems.Select(p => p.Message).ToArray();

        Assert.Contains(messages, m => m.StartsWith("Delay: 'soon' is not a duration", StringComparison.Ordinal));
        Assert.Contains(messages, m => m.StartsWith("Max_attempts is 0; it must be at least 1", StringComparison.Ordinal));
        Assert.Contains(messages, m => m.StartsWith("Jitter is 2; it must be between 0 and 1", StringComparison.Ordinal));
    }

    [Fact]
    public void Parse_UnknownInputType_IsRefusedWithTheKnownTypes()
    {
        const string yaml = """
            name: inputs
            inputs:
              issue: { type: integr }
            nodes:
              a: { run: make }
            """;

        var problem = Assert.Single(Refused(yaml).Problems);

        Assert.Equal(3, problem.Position?.Line);
        Assert.Contains("input type 'integr' is unknown; use string, int, number, bool or json", problem.Message, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public void Parse_BadConditionExpression_IsRefusedAtItsKey()
    {
        const string yaml = """
            name: conditions
            nodes:
              check:
                run: ./check.sh
                outputs: json
                on:
                  "output.status ==": done
              done:
                run: echo done
            """;

        var problem = Assert.Single(Refused(yaml).Problems);

        Assert.Equal(7, problem.Position?.Line);
        Assert.Contains("'output.status =='", problem.Message, StringComparison.Ordinal);
        Assert.Contains("valid condition", problem.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_BadTemplate_IsRefusedAtTheCommand()
    {
        const string yaml = """
            name: templates
            nodes:
              a:
                run: ./go.sh {{ inputs.issue
            """;

        var problem = Assert.Single(Refused(yaml).Problems);

        Assert.Equal(4, problem.Position?.Line);
        Assert.Contains("bad template", problem.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_HolesInSingleQuotesUnquotedHeredocsAndBackquotes_AreRefusedAtEachHoleWithTheFix()
    {
        const string yaml = """
            name: contexts
            inputs:
              issue: string
            nodes:
              single:
                run: echo 'Fixing {{ inputs.issue }}'
              heredoc:
                run: |-
                  cat <<EOF
                  Issue {{ inputs.issue }}
                  EOF
              ticks:
                run: "echo `echo {{ inputs.issue }}`"
              fine:
                run: echo "Fixing {{ inputs.issue }}" {{ inputs.issue }} $(echo {{ inputs.issue }})
              written:
                run: |-
                  cat > notes.md <<'EOF'
                  Issue {{ inputs.issue }}
                  EOF
            """;

        var problems = Refused(yaml, "flow.yaml").Problems;

        Assert.Equal([(6, 23), (10, 13), (13, 22)], problems.Select(p => (p.Position!.Value.Line, p.Position.Value.Column)));
        Assert.Equal(
            "flow.yaml:6:23: In the command of node 'single', '{{ inputs.issue }}' is inside single quotes, whose text the shell passes on unread, usually as a program for another tool (awk, jq, sed, sh -c), where a value spliced in can run as code; write the hole outside the quotes (its value is quoted for you); or pass the value in an env: variable and write \"$NAME\", or read it from the state on standard input.",
            problems[0].ToString());
        Assert.Contains("here-document whose delimiter is not quoted (<<EOF)", problems[1].Message, StringComparison.Ordinal);
        Assert.Contains("inside backquotes", problems[2].Message, StringComparison.Ordinal);
        Assert.All(problems, p => Assert.Contains("env:", p.Message, StringComparison.Ordinal));
    }

    [Fact]
    public void Parse_MaxVisits_IsReadAndCompiledIntoTheDefinition()
    {
        var file = WorkflowFileParser.Parse("name: loops\nmax_visits: 250\nnodes:\n  a: { run: echo }\n", "/srv/demo/flow.yaml");
        var unlimited = WorkflowFileParser.Parse("name: loops\nnodes:\n  a: { run: echo }\n", "/srv/demo/flow.yaml");

        Assert.Equal(250, file.MaxVisits);
        Assert.Equal(250, WorkflowCompiler.Compile(file, new ShellOptions(), _ => file)[0].Definition.MaxVisits);
        Assert.Null(WorkflowCompiler.Compile(unlimited, new ShellOptions(), _ => unlimited)[0].Definition.MaxVisits);
        Assert.Contains("'max_visits' is -1", Assert.Single(Refused("name: loops\nmax_visits: -1\nnodes:\n  a: { run: echo }\n").Problems).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_Queue_PlacesEachRunByItsInputsAndCarriesTheLimits()
    {
        const string yaml = """
            name: review
            inputs:
              repo: { type: string }
              priority: { type: int, default: 0 }
            queue: { name: llm, partition: "{{ inputs.repo }}", priority: "{{ inputs.priority }}", concurrency: 2, per_worker: 1, rate: 5/1s }
            nodes:
              a: { run: echo }
            """;
        var file = WorkflowFileParser.Parse(yaml, "/srv/demo/flow.yaml");
        var queue = WorkflowCompiler.Compile(file, new ShellOptions(), _ => file)[0].Definition.Queue!;
        var input = Ratchet.Serialization.RatchetJson.Parse("""{"repo":"acme/widgets","priority":7}""");

        Assert.Equal("llm", queue.Name);
        Assert.Equal("acme/widgets", queue.Partition!(input));
        Assert.Equal(7, queue.Priority!(input));
        Assert.Equal((2, 1, 5, TimeSpan.FromSeconds(1)), (queue.Limits!.Concurrency, queue.Limits.PerWorker, queue.Limits.RateLimit, queue.Limits.RatePeriod));

        var plain = WorkflowFileParser.Parse("name: plain\nqueue: repos\nnodes:\n  a: { run: echo }\n", "/srv/demo/flow.yaml");
        Assert.Equal(("repos", null), (plain.Queue!.Name, plain.Queue.Limits));
    }

    [Fact]
    public void Parse_QueueWithoutNameOrWithABadRate_IsRefused()
    {
        Assert.Contains("'queue' has no 'name:'", Assert.Single(Refused("name: q\nqueue: { concurrency: 2 }\nnodes:\n  a: { run: echo }\n").Problems).Message, StringComparison.Ordinal);
        Assert.Contains("the rate 'fast'", Assert.Single(Refused("name: q\nqueue: { name: llm, rate: fast }\nnodes:\n  a: { run: echo }\n").Problems).Message, StringComparison.Ordinal);
        Assert.Contains("the concurrency must be at least 1", Assert.Single(Refused("name: q\nqueue: { name: llm, concurrency: 0 }\nnodes:\n  a: { run: echo }\n").Problems).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_HoleInsideDoubleQuotesOrAQuotedHeredoc_IsAccepted()
    {
        const string yaml = """
            name: contexts
            nodes:
              fix:
                run: |-
                  echo "Fixing {{ inputs.title }} ($(date))"
                  cat > notes.md <<'EOF'
                  {{ inputs.title }}
                  EOF
            """;

        Assert.Equal("fix", Assert.Single(WorkflowFileParser.Parse(yaml, "/srv/demo/flow.yaml").Nodes).Name);
    }

    [Fact]
    public void Parse_BadTemplateInAnApprovalPrompt_IsRefusedAtThePrompt()
    {
        const string yaml = """
            name: templates
            nodes:
              ask:
                approval: Ship {{ inputs.issue ?
            """;

        var problem = Assert.Single(Refused(yaml).Problems);

        Assert.Equal(4, problem.Position?.Line);
        Assert.Contains("The prompt of node 'ask' has a bad template", problem.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_TransitionThatDoesNotFitTheNode_IsRefused()
    {
        const string yaml = """
            name: misfit
            nodes:
              ask:
                approval: ok?
                on: { exit 3: ask }
            """;

        var problem = Assert.Single(Refused(yaml).Problems);

        Assert.Contains("'on: exit 3' does not apply to node 'ask', a approval node", problem.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_ExitCodeOutOfRange_IsRefused()
    {
        const string yaml = """
            name: codes
            nodes:
              a:
                run: make
                on: { exit 300: a }
            """;

        var problem = Assert.Single(Refused(yaml).Problems);

        Assert.Contains("needs an exit code from 1 to 255", problem.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_SeveralProblems_ListsEveryOneInFileOrder()
    {
        const string yaml = """
            name: many
            inputs:
              issue: { type: integr }
            nodes:
              a:
                run: make
                timeout: soon
                next: bb
              b:
                rn: make
              c:
                run: make
                outputs: yaml
            """;

        var error = Refused(yaml, "/srv/demo/many.yaml");

        Assert.Equal([3, 7, 8, 9, 10, 13], error.Problems.Select(p => p.Position?.Line ?? 0));
        Assert.All(error.Problems, p => Assert.Equal("/srv/demo/many.yaml", p.File));
        Assert.StartsWith("/srv/demo/many.yaml:3:", error.Message, StringComparison.Ordinal);
        Assert.Contains("and 5 more problems", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', error.Message);
    }

    [Fact]
    public void Parse_NodeCalledEnd_IsRefused()
    {
        const string yaml = """
            name: ends
            nodes:
              end: { run: make }
            """;

        var problem = Assert.Single(Refused(yaml).Problems);

        Assert.Contains("cannot be called 'end'", problem.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Compile_UnreachableNode_IsReportedAtTheNode()
    {
        var path = _scratch.Write("unreachable.yaml", """
            name: unreachable
            nodes:
              a:
                run: make
                next: end
              orphan:
                run: make clean
            """);

        var error = Assert.Throws<WorkflowFileException>(() => WorkflowCompiler.Load(path, new ShellOptions()));

        var problem = Assert.Single(error.Problems);
        Assert.Equal(path, problem.File);
        Assert.Equal(new SourcePosition(6, 3), problem.Position);
        Assert.Contains("Node 'orphan' is unreachable", problem.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Compile_LoopWithoutWayOut_IsRefused()
    {
        var path = _scratch.Write("loop.yaml", """
            name: loop
            nodes:
              a: { run: make, next: b }
              b: { run: make, next: a }
            """);

        var error = Assert.Throws<WorkflowFileException>(() => WorkflowCompiler.Load(path, new ShellOptions()));

        Assert.Contains(error.Problems, p => p.Message.Contains("no path to an end", StringComparison.Ordinal));
    }

    [Fact]
    public void Compile_SubWorkflowIncludingItself_IsRefused()
    {
        var path = _scratch.Write("self.yaml", """
            name: self
            nodes:
              again:
                workflow: self.yaml
            """);

        var error = Assert.Throws<WorkflowFileException>(() => WorkflowCompiler.Load(path, new ShellOptions()));

        var problem = Assert.Single(error.Problems);
        Assert.Equal(new SourcePosition(3, 3), problem.Position);
        Assert.Contains("cannot include themselves", problem.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Compile_SubWorkflowCycleThroughAnotherFile_IsRefusedNamingTheChain()
    {
        var path = _scratch.Write("first.yaml", """
            name: first
            nodes:
              call: { workflow: nested/second.yaml }
            """);
        _scratch.Write("nested/second.yaml", """
            name: second
            nodes:
              back: { workflow: ../first.yaml }
            """);

        var error = Assert.Throws<WorkflowFileException>(() => WorkflowCompiler.Load(path, new ShellOptions()));

        var problem = Assert.Single(error.Problems);
        Assert.Equal(_scratch.File("nested/second.yaml"), problem.File);
        Assert.Contains("first.yaml → second.yaml → first.yaml", problem.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Compile_MissingSubWorkflowFile_IsRefusedAtTheNode()
    {
        var path = _scratch.Write("parent.yaml", """
            name: parent
            nodes:
              call: { workflow: missing.yaml }
            """);

        var error = Assert.Throws<WorkflowFileException>(() => WorkflowCompiler.Load(path, new ShellOptions()));

        var problem = Assert.Single(error.Problems);
        Assert.Equal((path, new SourcePosition(3, 3)), (problem.File, problem.Position));
        Assert.Contains("'missing.yaml', which does not exist", problem.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Compile_ValidFileWithSubWorkflow_ReturnsRootFirstWithSameVersionEachTime()
    {
        var path = _scratch.Write("parent.yaml", """
            name: parent
            nodes:
              call: { workflow: child.yaml, with: { x: "{{ inputs.x }}" } }
            """);
        _scratch.Write("child.yaml", """
            name: child
            inputs:
              x: { type: string }
            nodes:
              work: { run: echo hi }
            """);

        var first = WorkflowCompiler.Load(path, new ShellOptions());
        var second = WorkflowCompiler.Load(path, new ShellOptions());

        Assert.Equal(["parent", "child"], first.Select(c => c.Definition.Name));
        Assert.Equal(first.Select(c => c.Definition.Version), second.Select(c => c.Definition.Version));
    }

    [Fact]
    public void Parse_AliasBomb_IsRefusedAtTheAliasThatPassesTheExpansionLimit()
    {
        // 6 levels of 9 aliases: 9^6 (531,441) values from 300 bytes; the alias limit is 100,000.
        var yaml = "name: bomb\ndefaults:\n  env:\n    L0: &l0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n"
            + string.Concat(Enumerable.Range(1, 5).Select(level => $"    L{level}: &l{level} [{string.Join(", ", Enumerable.Repeat($"*l{level - 1}", 9))}]\n"))
            + "nodes:\n  a:\n    run: echo $L5\n";

        var problem = Assert.Single(Refused(yaml).Problems);

        // l4 stands for 1 + 9 * 7,381 = 66,430 values; aliases repeat 74,718 values up to L4, so L5's first alias passes 100,000.
        Assert.Equal(new SourcePosition(9, 14), problem.Position);
        Assert.Equal("The alias '*l4' stands for 66,430 values, which brings the values that aliases repeat to more than 100,000, the most a workflow file may have (anchors that alias anchors multiply: is this an alias bomb?); write the values out, or use fewer aliases.", problem.Message);
    }

    [Fact]
    public void Parse_AliasesWithinTheLimits_ShareTheirValues()
    {
        var file = WorkflowFileParser.Parse($$"""
            name: shared
            defaults:
              env: &common { MODE: test, LEVEL: "3" }
            nodes:
              a:
                run: echo a
                env: *common
              b:
                run: echo b
                env:
                  ALL: [{{string.Join(", ", Enumerable.Repeat("*common", WorkflowFileParser.MaxAliases - 1))}}]
            """, "/srv/demo/shared.yaml");

        Assert.Equal([new KeyValuePair<string, string>("MODE", "test"), new KeyValuePair<string, string>("LEVEL", "3")], Assert.IsType<RunNodeSpec>(file.Nodes[0]).Env);
        var all = System.Text.Json.JsonDocument.Parse(Assert.Single(Assert.IsType<RunNodeSpec>(file.Nodes[1]).Env).Value).RootElement;
        Assert.Equal(WorkflowFileParser.MaxAliases - 1, all.GetArrayLength());
        Assert.All(all.EnumerateArray(), e => Assert.Equal("test", e.GetProperty("MODE").GetString()));
    }

    [Fact]
    public void Parse_MoreAliasesThanTheLimit_IsRefusedAtTheOneTooMany()
    {
        var yaml = $"name: many\ndefaults:\n  env:\n    ONE: &one x\n    ALL: [{string.Join(", ", Enumerable.Repeat("*one", WorkflowFileParser.MaxAliases + 1))}]\nnodes:\n  a:\n    run: echo\n";

        var problem = Assert.Single(Refused(yaml).Problems);

        Assert.Equal(new SourcePosition(5, 11 + (WorkflowFileParser.MaxAliases * 6)), problem.Position);
        Assert.Equal("The alias '*one' is one too many: a workflow file may use at most 1000 aliases.", problem.Message);
    }

    [Fact]
    public void Parse_AliasInsideTheValueItNames_IsRefusedInsteadOfRecursingWithoutEnd()
    {
        const string yaml = """
            name: cycle
            inputs:
              x:
                type: json
                default: &loop [1, *loop]
            nodes:
              a:
                run: echo
            """;

        var problem = Assert.Single(Refused(yaml).Problems);

        Assert.Equal(new SourcePosition(5, 24), problem.Position);
        Assert.StartsWith("The alias '*loop' is inside the value its anchor '&loop' names", problem.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_NestingDeeperThanTheLimit_IsRefused()
    {
        var depth = WorkflowFileParser.MaxDepth + 10;
        var yaml = $"name: deep\ninputs:\n  x:\n    type: json\n    default: {new string('[', depth)}{new string(']', depth)}\nnodes:\n  a:\n    run: echo\n";

        var problem = Assert.Single(Refused(yaml).Problems);

        // The root mapping, inputs and x are three levels, so default's 62nd bracket opens the 65th.
        Assert.Equal(new SourcePosition(5, 14 + WorkflowFileParser.MaxDepth - 3), problem.Position);
        Assert.Equal("Values are nested more than 64 deep here; a workflow file needs far fewer levels.", problem.Message);
    }

    [Fact]
    public void Parse_CancelledToken_StopsWithoutReadingTheFile()
    {
        using var cancelled = new CancellationTokenSource();
        cancelled.Cancel();

        Assert.Throws<OperationCanceledException>(() => WorkflowFileParser.Parse("name: a\nnodes:\n  a:\n    run: echo\n", "/srv/demo/a.yaml", cancellationToken: cancelled.Token));
    }
}
