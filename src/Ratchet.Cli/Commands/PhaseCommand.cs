using System.Buffers;
using System.CommandLine;
using System.Globalization;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using Ratchet.Engine;
using Ratchet.Serialization;
using Ratchet.Storage;
using Ratchet.Yaml;
using CommandResult = Ratchet.Yaml.CommandResult;
using TokenType = System.CommandLine.Parsing.TokenType;

namespace Ratchet.Cli.Commands;

/// <summary>
/// <c>phase NAME -- COMMAND...</c>: runs one command as one durable phase (node) of a workflow that has no definition,
/// reading the workflow's state JSON on standard input and writing it, updated, to standard output, so that phases
/// chain with pipes: <c>ratchet state new --type fix | ratchet phase plan -- ./plan.sh | ratchet phase build -- ./build.sh</c>.
/// </summary>
/// <remarks>
/// A phase whose journal already holds a Completed step is skipped, so re-running a pipeline after a failure runs only
/// what did not finish. Everything a phase did (each attempt's step, command and events, the status change and the
/// artifact) is one commit at the workflow's expected version: a crash or Ctrl-C mid-phase records nothing, and the
/// phase runs again next time.
/// </remarks>
internal static class PhaseCommand
{
    public static IEnumerable<Command> Create(TextWriter output, TextWriter error)
    {
        yield return Phase(output, error);
    }

    private static Command Phase(TextWriter output, TextWriter error)
    {
        var name = new Argument<string>("name") { Description = "The phase's name: letters, digits, '-', '_' or '.'. It names the node in the journal and the artifact." };
        var commandLine = new Argument<string[]>("command")
        {
            Description = "The command, after `--`. One argument is a shell command line (pipes and && work); several are run as they are (each quoted).",
            Arity = ArgumentArity.ZeroOrMore,
        };
        var id = new Option<string?>("--id") { Description = "The workflow's id, instead of reading its state JSON on standard input (standard input is then not read)." };
        var retry = new Option<int>("--retry") { Description = "How many times to run the command again after it fails (default 0: one attempt)." };
        var retryDelay = new Option<string>("--retry-delay") { Description = "The wait before the first retry, doubling (with jitter) for each next one, at most 5m.", DefaultValueFactory = _ => "1s" };
        var timeout = new Option<string?>("--timeout") { Description = "How long one attempt may run before it is killed and counts as failed, e.g. 30s, 10m (default: no limit)." };
        var outputs = new Option<string>("--outputs") { Description = "How the command's standard output becomes the phase's artifact: text (one trailing newline removed) or json (must be one JSON value).", DefaultValueFactory = _ => "text" };
        outputs.AcceptOnlyFromAmong("text", "json");
        var final = new Option<bool>("--final") { Description = "Complete the workflow once this phase has completed (the last phase of a pipeline)." };
        var command = new Command("phase",
            "Run a command as one durable phase of a workflow: read its state JSON on standard input (from `ratchet state new` or a previous phase), " +
            "run the command unless this phase already completed, record it, and print the updated state JSON: " +
            "{\"workflow\": {\"id\", \"type\", \"status\", \"version\"}, \"inputs\": {...}, \"artifacts\": {...}}. " +
            "A failed phase prints nothing on standard output, marks the workflow Failed and exits 1, so `set -o pipefail` pipelines stop; run the pipeline again to retry it.")
        {
            name, commandLine, id, retry, retryDelay, timeout, outputs, final,
        };
        command.SetAction(RatchetCli.Action(output, error, async (context, parse, cancellationToken) =>
        {
            var request = new PhaseRequest
            {
                Name = ValidateName(parse.GetValue(name)!),
                CommandLine = CommandLineOf(parse, parse.GetValue(commandLine) ?? []),
                Retries = parse.GetValue(retry) is var retries and >= 0 ? retries : throw new UsageException($"--retry is {parse.GetValue(retry)}; it must be 0 or more."),
                RetryDelay = StateCommands.ParseDuration(parse.GetValue(retryDelay)!, "--retry-delay"),
                Timeout = parse.GetValue(timeout) is { } limit ? StateCommands.ParseDuration(limit, "--timeout") : null,
                JsonOutput = parse.GetValue(outputs) == "json",
                Final = parse.GetValue(final),
            };
            if (request.Timeout is { } t && t <= TimeSpan.Zero)
            {
                throw new UsageException("--timeout must be more than zero.");
            }

            // Reading standard input first also makes this phase wait for the previous one in a pipeline.
            var workflowId = parse.GetValue(id) ?? await PhaseState.ReadIdAsync(cancellationToken);
            await using var store = await context.OpenStoreAsync(cancellationToken);
            try
            {
                return await new PhaseRun(context, store, request).RunAsync(workflowId, cancellationToken);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                // Ctrl-C: the command was killed and nothing was committed, so the phase simply runs again next time.
                await context.Error.WriteLineAsync($"ratchet: interrupted; phase '{request.Name}' of workflow {workflowId} was not recorded and runs again when the pipeline is run again.");
                return ExitCodes.Interrupted;
            }
        }));
        return command;
    }

    /// <summary>The command line for <c>{shell} -c</c>; only what follows <c>--</c> is taken, so its own options never reach ours.</summary>
    private static string CommandLineOf(ParseResult parse, string[] arguments)
    {
        if (!parse.Tokens.Any(t => t.Type == TokenType.DoubleDash))
        {
            throw new UsageException(arguments.Length == 0
                ? "Give the command to run after `--`, e.g. `ratchet phase build -- ./build.sh`."
                : $"Put the command after `--` (e.g. `ratchet phase NAME -- {string.Join(' ', arguments)}`), so that its options are not taken for ratchet's.");
        }

        // Every token after `--` is an argument; the parser gives them to NAME first if NAME was not given before it,
        // and to COMMAND also when stray arguments came before `--`.
        var afterDash = parse.Tokens.SkipWhile(t => t.Type != TokenType.DoubleDash).Skip(1).Count();
        if (afterDash > arguments.Length)
        {
            throw new UsageException("Name the phase before `--`: `ratchet phase NAME -- COMMAND...`.");
        }

        if (afterDash < arguments.Length)
        {
            throw new UsageException($"'{arguments[0]}' comes before `--`; only the phase's name and options go there: `ratchet phase NAME [options] -- COMMAND...`.");
        }

        if (arguments.Length == 0 || arguments.All(string.IsNullOrWhiteSpace))
        {
            throw new UsageException("Nothing follows `--`: give the command to run, e.g. `ratchet phase build -- ./build.sh`.");
        }

        return arguments.Length == 1 ? arguments[0] : string.Join(' ', arguments.Select(ShellQuote));
    }

    private static string ShellQuote(string argument) =>
        argument.Length > 0 && argument.All(c => char.IsAsciiLetterOrDigit(c) || "-_./=:,+@%^".Contains(c, StringComparison.Ordinal))
            ? argument
            : "'" + argument.Replace("'", "'\"'\"'", StringComparison.Ordinal) + "'";

    /// <summary>Phase names become node names, artifact keys and log file names: the same narrow set as YAML node names.</summary>
    internal static string ValidateName(string name)
    {
        if (name.Length == 0 || name.Length > 64 || !char.IsAsciiLetterOrDigit(name[0]) ||
            !name.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.'))
        {
            throw new UsageException($"The phase name '{name}' must be 1 to 64 letters, digits, '-', '_' or '.', starting with a letter or digit.");
        }

        return name;
    }

    private sealed record PhaseRequest
    {
        public required string Name { get; init; }

        public required string CommandLine { get; init; }

        public int Retries { get; init; }

        public TimeSpan RetryDelay { get; init; }

        public TimeSpan? Timeout { get; init; }

        public bool JsonOutput { get; init; }

        public bool Final { get; init; }
    }

    /// <summary>One attempt's outcome: its output on success; otherwise its error, what went wrong (without the phase's name), and a few words for the retry line.</summary>
    private sealed record AttemptResult(JsonElement? Output, WorkflowError? Error = null, string? Detail = null, string? Summary = null);

    /// <summary>One invocation of <c>ratchet phase</c>: decide (skip, run, refuse), run the attempts, commit once.</summary>
    private sealed class PhaseRun(CliContext context, IRatchetStore store, PhaseRequest request)
    {
        private readonly TimeProvider _clock = TimeProvider.System;
        private readonly ChangeSet _changes = new();

        public async Task<int> RunAsync(string workflowId, CancellationToken cancellationToken)
        {
            var workflow = await store.GetRequiredWorkflowAsync(workflowId, cancellationToken);
            if (workflow.DefinitionVersion.Length > 0)
            {
                throw new UsageException(
                    $"Workflow '{workflow.Id}' runs the workflow definition '{workflow.Type}' in the engine; phases only run workflows made by `ratchet state new`. Use `ratchet resume {workflow.Id}` or `ratchet retry {workflow.Id}` for it.");
            }

            var steps = await store.GetStepsAsync(workflow.Id, cancellationToken);
            if (steps.LastOrDefault(s => s.Node == request.Name && s.Outcome == StepOutcome.Completed) is { } done)
            {
                return await SkipAsync(workflow, done, cancellationToken);
            }

            var start = _clock.GetStoreNow();
            var running = Begin(workflow, start);
            var firstAttempt = steps.Count(s => s.Node == request.Name) + 1;
            var logPath = Path.Combine(context.Location.RunsDirectory, workflow.Id, "logs", $"{request.Name}.log");
            AttemptResult result;
            var attempt = firstAttempt;
            for (var retry = 0; ; retry++, attempt++)
            {
                result = await RunAttemptAsync(running, attempt, logPath, cancellationToken);
                if (result.Error is null || retry >= request.Retries)
                {
                    break;
                }

                var delay = new RetryPolicy { MaxAttempts = request.Retries + 1, InitialDelay = request.RetryDelay }.DelayAfter(retry + 1, Random.Shared);
                var now = _clock.GetStoreNow();
                _changes.AppendEvent(new AuditEvent
                {
                    WorkflowId = workflow.Id, Type = AuditEventTypes.RetryScheduled, Node = request.Name, Attempt = attempt + 1, At = now,
                    Payload = Payload(("dueAt", StoreTime.Truncate(now + delay).ToString("O", CultureInfo.InvariantCulture)), ("delayMs", ((long)delay.TotalMilliseconds).ToString(CultureInfo.InvariantCulture))),
                });
                await context.Error.WriteLineAsync($"ratchet: phase '{request.Name}' of workflow {workflow.Id}: attempt {attempt} failed ({result.Summary}); retrying in {StateCommands.Duration(delay)}.");
                await Task.Delay(delay, _clock, cancellationToken);
            }

            var end = _clock.GetStoreNow();
            var next = running with { CurrentNode = request.Name, Attempt = attempt, UpdatedAt = end, DueAt = null };
            if (result.Error is { } failure)
            {
                next = next.TransitionTo(WorkflowStatus.Failed, end) with { Error = failure };
                StatusChanged(running, next, end, $"phase '{request.Name}' failed");
                await CommitAsync(next, cancellationToken);
                var attempts = attempt - firstAttempt + 1;
                throw new PhaseException("phase-failed",
                    $"Phase '{request.Name}' of workflow {workflow.Id} failed{(attempts > 1 ? $" after {attempts} attempts" : "")}: {result.Detail} " +
                    $"The workflow is marked Failed; fix the cause and run the pipeline again: completed phases are skipped and this one is retried.");
            }

            next = next with
            {
                Error = null,
                Artifacts = new Dictionary<string, JsonElement>(running.Artifacts, StringComparer.Ordinal) { [request.Name] = result.Output!.Value },
            };
            if (request.Final)
            {
                next = next.TransitionTo(WorkflowStatus.Completed, end);
                StatusChanged(running, next, end, $"final phase '{request.Name}' completed");
            }

            var committed = await CommitAsync(next, cancellationToken);
            await context.Error.WriteLineAsync(
                $"ratchet: phase '{request.Name}' of workflow {workflow.Id} completed in {StateCommands.Duration(end - start)}{(request.Final ? "; the workflow is Completed" : "")}.");
            await context.Output.WriteLineAsync(PhaseState.Serialize(committed, indented: context.IsTerminal));
            return ExitCodes.Ok;
        }

        /// <summary>The phase already completed: pass the state on (completing the workflow if this is its final phase).</summary>
        private async Task<int> SkipAsync(WorkflowRecord workflow, StepRecord done, CancellationToken cancellationToken)
        {
            await context.Error.WriteLineAsync(
                $"ratchet: phase '{request.Name}' of workflow {workflow.Id} already completed (attempt {done.Attempt}, {StateCommands.Time(done.FinishedAt)}); skipped.");
            if (request.Final && workflow.Status == WorkflowStatus.Running)
            {
                var now = _clock.GetStoreNow();
                var completed = workflow.TransitionTo(WorkflowStatus.Completed, now);
                StatusChanged(workflow, completed, now, $"final phase '{request.Name}' completed");
                workflow = await CommitAsync(completed, cancellationToken);
            }

            await context.Output.WriteLineAsync(PhaseState.Serialize(workflow, indented: context.IsTerminal));
            return ExitCodes.Ok;
        }

        /// <summary>The workflow as it runs this phase: Pending starts, Failed is retried (explicit and audited), Running goes on.</summary>
        private WorkflowRecord Begin(WorkflowRecord workflow, DateTimeOffset now)
        {
            switch (workflow.Status)
            {
                case WorkflowStatus.Pending:
                {
                    var running = workflow.TransitionTo(WorkflowStatus.Running, now);
                    StatusChanged(workflow, running, now, $"phase '{request.Name}' started");
                    return running;
                }

                case WorkflowStatus.Failed:
                {
                    var running = workflow.Retry(now, request.Name) with { DueAt = null };
                    _changes.AppendEvent(new AuditEvent
                    {
                        WorkflowId = workflow.Id, Type = AuditEventTypes.Retried, Node = request.Name, At = now,
                        Payload = Payload(("previousError", workflow.Error?.Message)),
                    });
                    StatusChanged(workflow, running, now, "retry");
                    context.Error.WriteLine($"ratchet: workflow {workflow.Id} had failed{(workflow.Error?.Node is { } node ? $" at phase '{node}'" : "")}; retrying it from phase '{request.Name}'.");
                    return running;
                }

                case WorkflowStatus.Running:
                    return workflow;

                case WorkflowStatus.Waiting:
                    throw new InvalidTransitionException(workflow.Id, workflow.Status, WorkflowStatus.Running,
                        $"Workflow '{workflow.Id}' is waiting for {workflow.WaitReason}; a phase cannot run in it now.");

                default:
                    throw new InvalidTransitionException(workflow.Id, workflow.Status, WorkflowStatus.Running,
                        $"Workflow '{workflow.Id}' is {workflow.Status}, so phase '{request.Name}' (which has not completed in it) cannot run any more. Start a new workflow with `ratchet state new --type {workflow.Type}`.");
            }
        }

        /// <summary>Runs the command once and adds its node-started, command-executed, step and node-completed/failed records.</summary>
        private async Task<AttemptResult> RunAttemptAsync(WorkflowRecord workflow, int attempt, string logPath, CancellationToken cancellationToken)
        {
            var idempotencyKey = $"{workflow.Id}/{request.Name}/{attempt}";
            var shell = RunCommands.ShellDefaults(context);
            var redactor = shell.Redactor.With(shell.ArtifactRedactor);
            var directory = Directory.GetCurrentDirectory();
            var started = _clock.GetStoreNow();
            _changes.AppendEvent(new AuditEvent { WorkflowId = workflow.Id, Type = AuditEventTypes.NodeStarted, Node = request.Name, Attempt = attempt, At = started });
            if (attempt > 1 || request.Retries > 0)
            {
                await context.Error.WriteLineAsync($"ratchet: phase '{request.Name}' of workflow {workflow.Id}: attempt {attempt}; log {logPath}");
            }

            using var timeout = request.Timeout is { } limit ? new CancellationTokenSource(limit, _clock) : new CancellationTokenSource();
            using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timeout.Token);
            CommandResult? result = null;
            try
            {
                result = await new CommandRunner(shell).RunAsync(new CommandRequest
                {
                    CommandLine = request.CommandLine,
                    WorkingDirectory = directory,
                    Environment = Variables(workflow, attempt, idempotencyKey),
                    StandardInput = PhaseState.Serialize(workflow, indented: false, (request.Name, attempt, idempotencyKey)) + "\n",
                    LogPath = logPath,
                    LogHeader = $"== {started:O} attempt {attempt}: {redactor.Redact(request.CommandLine)} (in {directory})",
                    Redactor = redactor,
                }, linked.Token);
            }
            catch (OperationCanceledException) when (timeout.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
            {
                // Timed out: the runner killed the command; it counts as a failed attempt (Ctrl-C propagates instead and records nothing).
            }

            var finished = _clock.GetStoreNow();
            var duration = result?.Duration ?? finished - started;
            var command = new CommandExecution
            {
                WorkflowId = workflow.Id,
                Node = request.Name,
                Attempt = attempt,
                CommandLine = redactor.Redact(request.CommandLine),
                WorkingDirectory = directory,
                ExitCode = result?.ExitCode,
                Duration = TimeSpan.FromTicks(duration.Ticks - (duration.Ticks % TimeSpan.TicksPerMicrosecond)),
                StdoutTail = result?.StdoutTail ?? "",
                StderrTail = result?.StderrTail ?? "",
                StartedAt = started,
            };
            _changes.RecordCommand(command);
            _changes.AppendEvent(new AuditEvent
            {
                WorkflowId = workflow.Id, Type = AuditEventTypes.CommandExecuted, Node = request.Name, Attempt = attempt, At = started + command.Duration,
                Payload = Payload(
                    ("command", command.CommandLine),
                    ("exitCode", command.ExitCode?.ToString(CultureInfo.InvariantCulture)),
                    ("durationMs", ((long)command.Duration.TotalMilliseconds).ToString(CultureInfo.InvariantCulture))),
            });

            var outcome = Evaluate(result, shell.ArtifactRedactor, logPath);
            if (outcome.Error is { } error)
            {
                _changes.AppendStep(new StepRecord
                {
                    WorkflowId = workflow.Id, Node = request.Name, Attempt = attempt, Outcome = StepOutcome.Failed, Error = error, StartedAt = started, FinishedAt = finished,
                });
                _changes.AppendEvent(new AuditEvent
                {
                    WorkflowId = workflow.Id, Type = AuditEventTypes.NodeFailed, Node = request.Name, Attempt = attempt, At = finished,
                    Payload = Payload(("error", error.Type), ("message", error.Message)),
                });
            }
            else
            {
                _changes.AppendStep(new StepRecord
                {
                    WorkflowId = workflow.Id, Node = request.Name, Attempt = attempt, Outcome = StepOutcome.Completed, Output = outcome.Output, StartedAt = started, FinishedAt = finished,
                });
                _changes.AppendEvent(new AuditEvent { WorkflowId = workflow.Id, Type = AuditEventTypes.NodeCompleted, Node = request.Name, Attempt = attempt, At = finished });
            }

            return outcome;
        }

        /// <summary>
        /// The attempt's artifact (Ratchet's own keys masked, as for workflow nodes), or why it failed (a message that
        /// names the phase and points to its log).
        /// </summary>
        private AttemptResult Evaluate(CommandResult? result, SecretRedactor artifactRedactor, string logPath)
        {
            if (result is null)
            {
                var limit = Durations.Format(request.Timeout!.Value);
                return Failed("timeout", $"timed out after {limit} and was stopped. Its log is {logPath}.", $"timed out after {limit}");
            }

            if (result.ExitCode != 0)
            {
                var reason = LastLine(result.StderrTail) ?? LastLine(result.StdoutTail) ?? "no output";
                return Failed("command-failed", $"command exited with code {result.ExitCode}: {reason}. Its log is {logPath}.", $"exit code {result.ExitCode}: {reason}");
            }

            if (result.OutputOverflowed)
            {
                return Failed("command-failed", $"wrote more than {Sizes.Format(RunCommands.ShellDefaults(context).MaxOutputBytes)} to standard output ({result.OutputBytes} bytes); write large results to a file and print its path.", "too much output");
            }

            var output = artifactRedactor.Redact(result.Output);
            var text = output.EndsWith('\n') ? output[..^1] : output;
            if (!request.JsonOutput)
            {
                return new AttemptResult(JsonSerializer.SerializeToElement(text, RatchetJsonContext.Default.String));
            }

            if (string.IsNullOrWhiteSpace(text))
            {
                return Failed("command-failed", "was run with --outputs json but printed nothing to standard output.", "no JSON output");
            }

            try
            {
                return new AttemptResult(RatchetJson.Parse(text, "Its standard output"));
            }
            catch (JsonTooDeepException ex)
            {
                return Failed("command-failed", $"was run with --outputs json, but {char.ToLowerInvariant(ex.Message[0])}{ex.Message[1..]}", "output is JSON nested too deep");
            }
            catch (JsonException ex)
            {
                return Failed("command-failed", $"was run with --outputs json but its standard output is not JSON ({ex.Message}). Print only the JSON value, and logs to standard error.", "output is not JSON");
            }

            // The stored error names the phase (it is read on its own later); the detail is for the one-line error that already does.
            AttemptResult Failed(string type, string detail, string summary) =>
                new(null, new WorkflowError(type, $"Phase '{request.Name}' {detail}") { Node = request.Name }, detail, summary);
        }

        private Dictionary<string, string> Variables(WorkflowRecord workflow, int attempt, string idempotencyKey)
        {
            var variables = new Dictionary<string, string>(StringComparer.Ordinal)
            {
                ["RATCHET_WORKFLOW_ID"] = workflow.Id,
                ["RATCHET_WORKFLOW_TYPE"] = workflow.Type,
                ["RATCHET_NODE"] = request.Name,
                ["RATCHET_PHASE"] = request.Name,
                ["RATCHET_ATTEMPT"] = attempt.ToString(CultureInfo.InvariantCulture),
                ["RATCHET_IDEMPOTENCY_KEY"] = idempotencyKey,
                ["RATCHET_RUN_DIR"] = Path.Combine(context.Location.RunsDirectory, workflow.Id),

                // So that a phase's own `ratchet kv ...` calls use the same store; never its password, which is Ratchet's
                // secret (such calls find it where Npgsql looks: PGPASSWORD, ~/.pgpass).
                [StoreLocation.EnvironmentVariable] = StoreUri.WithoutPassword(context.Location.Uri),
            };
            if (workflow.Input is { ValueKind: JsonValueKind.Object } input)
            {
                foreach (var property in input.EnumerateObject())
                {
                    var variable = new StringBuilder("RATCHET_INPUT_");
                    foreach (var c in property.Name)
                    {
                        variable.Append(char.IsAsciiLetterOrDigit(c) ? char.ToUpperInvariant(c) : '_');
                    }

                    variables[variable.ToString()] = StateScope.Text(property.Value);
                }
            }

            return variables;
        }

        private void StatusChanged(WorkflowRecord before, WorkflowRecord after, DateTimeOffset now, string reason) =>
            _changes.AppendEvent(new AuditEvent
            {
                WorkflowId = before.Id, Type = AuditEventTypes.StatusChanged, Node = after.CurrentNode ?? request.Name, At = now,
                Payload = Payload(("from", before.Status.ToString()), ("to", after.Status.ToString()), ("reason", reason)),
            });

        /// <summary>Commits everything the phase did at the version it read; someone else's write in between voids it.</summary>
        private async Task<WorkflowRecord> CommitAsync(WorkflowRecord next, CancellationToken cancellationToken)
        {
            try
            {
                // Not cancellable: once the command has run, its record must not be lost to a late Ctrl-C.
                await store.CommitAsync(_changes.UpdateWorkflow(next), CancellationToken.None);
            }
            catch (WorkflowConcurrencyException ex)
            {
                throw new PhaseException("version-conflict",
                    $"Workflow '{next.Id}' was changed by someone else while phase '{request.Name}' ran (expected version {ex.ExpectedVersion}, found {ex.ActualVersion}); this run of the phase was not recorded. Run it again.");
            }

            cancellationToken.ThrowIfCancellationRequested();
            return next with { Version = next.Version + 1 };
        }

        private static string? LastLine(string text) =>
            text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).LastOrDefault();
    }

    private static JsonElement Payload(params (string Key, string? Value)[] fields)
    {
        var map = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (key, value) in fields)
        {
            if (value is not null)
            {
                map[key] = value;
            }
        }

        return RatchetJson.ToElement(map);
    }
}

/// <summary>
/// The state JSON that phases pass along a pipeline:
/// <c>{"workflow": {"id", "type", "status", "version"}, "inputs": {...}, "artifacts": {...}}</c>. A command run as a
/// phase gets it on standard input with <c>workflow.node</c>, <c>workflow.attempt</c> and
/// <c>workflow.idempotencyKey</c> added. Reading it, only the id is used: the rest is reloaded from the store, so an
/// edited or stale document cannot change a workflow.
/// </summary>
internal static class PhaseState
{
    private static readonly JsonWriterOptions Compact = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };
    private static readonly JsonWriterOptions Pretty = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping, Indented = true };

    public static string Serialize(WorkflowRecord workflow, bool indented, (string Node, int Attempt, string IdempotencyKey)? running = null)
    {
        var buffer = new ArrayBufferWriter<byte>(512);
        using (var writer = new Utf8JsonWriter(buffer, indented ? Pretty : Compact))
        {
            writer.WriteStartObject();
            writer.WriteStartObject("workflow");
            writer.WriteString("id", workflow.Id);
            writer.WriteString("type", workflow.Type);
            writer.WriteString("status", workflow.Status.ToString());
            writer.WriteNumber("version", workflow.Version);
            if (running is var (node, attempt, idempotencyKey))
            {
                writer.WriteString("node", node);
                writer.WriteNumber("attempt", attempt);
                writer.WriteString("idempotencyKey", idempotencyKey);
            }

            writer.WriteEndObject();
            writer.WritePropertyName("inputs");
            if (workflow.Input is { ValueKind: JsonValueKind.Object } input)
            {
                input.WriteTo(writer);
            }
            else
            {
                writer.WriteStartObject();
                writer.WriteEndObject();
            }

            writer.WriteStartObject("artifacts");
            foreach (var (key, value) in workflow.Artifacts.OrderBy(a => a.Key, StringComparer.Ordinal))
            {
                writer.WritePropertyName(key);
                value.WriteTo(writer);
            }

            writer.WriteEndObject();
            writer.WriteEndObject();
        }

        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    /// <summary>The workflow id from the state JSON on standard input (or any JSON with <c>workflow.id</c> or a top-level <c>id</c>).</summary>
    public static async Task<string> ReadIdAsync(CancellationToken cancellationToken)
    {
        if (!Console.IsInputRedirected)
        {
            throw new UsageException("No workflow state on standard input: pipe it in (`ratchet state new --type T | ratchet phase NAME -- COMMAND`) or pass --id ID.");
        }

        using var reader = new StreamReader(Console.OpenStandardInput(), Encoding.UTF8);
        var text = await reader.ReadToEndAsync(cancellationToken);
        if (string.IsNullOrWhiteSpace(text))
        {
            // In a pipeline this means the command before failed (it printed its own error): fail too, without running anything.
            throw new PhaseException("no-state",
                "No workflow state on standard input: the command before this one in the pipeline printed nothing (it probably failed; see its error). Nothing was run.");
        }

        return ParseId(text);
    }

    public static string ParseId(string text)
    {
        const string Expected = "Standard input is not a Ratchet state JSON: expected {\"workflow\": {\"id\": ...}, ...} as printed by `ratchet state new` or `ratchet phase`";
        JsonElement root;
        try
        {
            root = RatchetJson.ParseDocument(text);
        }
        catch (JsonException ex)
        {
            throw new UsageException($"{Expected} ({ex.Message}).");
        }

        if (root.ValueKind == JsonValueKind.Object &&
            ((root.TryGetProperty("workflow", out var workflow) && workflow.ValueKind == JsonValueKind.Object && workflow.TryGetProperty("id", out var id)) ||
             root.TryGetProperty("id", out id)) &&
            id.ValueKind == JsonValueKind.String && id.GetString() is { Length: > 0 } value)
        {
            return value;
        }

        throw new UsageException($"{Expected}.");
    }
}

/// <summary>A phase did not succeed (its command failed, or there was no state to work on); exit code 1.</summary>
internal sealed class PhaseException(string errorCode, string message) : RatchetException(message)
{
    public override string ErrorCode { get; } = errorCode;
}
