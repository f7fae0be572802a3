using System.CommandLine;
using System.Text;
using System.Text.Json;
using Ratchet.Engine;
using Ratchet.Hosting;
using Ratchet.Storage;
using TokenType = System.CommandLine.Parsing.TokenType;

namespace Ratchet.Cli.Commands;

/// <summary>
/// <c>phase NAME -- COMMAND...</c>: runs one command as one durable phase (node) of a workflow that has no definition,
/// reading the workflow's state JSON on standard input and writing it, updated, to standard output, so that phases
/// chain with pipes: <c>ratchet state new --type fix | ratchet phase plan -- ./plan.sh | ratchet phase build -- ./build.sh</c>.
/// </summary>
/// <remarks>
/// The phase runs through the engine (<see cref="PhaseRunner"/>): a phase whose journal already holds a Completed step
/// is skipped, so re-running a pipeline after a failure runs only what did not finish; each attempt is committed, a
/// retry waits as a due time in the store, and a phase whose <c>ratchet</c> was killed is run on by <c>ratchet resume
/// ID</c>, by any <c>ratchet worker</c>, or by running the pipeline again. This command only parses and prints.
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
            var workflowId = parse.GetValue(id) ?? await ReadIdAsync(cancellationToken);
            var options = context.HostOptions();
            options.LoadRecordedDefinitions = false;
            options.Observers.Add(_ => new PhaseProgress(context, request, workflowId));
            await using var host = await RatchetHost.OpenAsync(options, cancellationToken);
            PhaseRunResult result;
            try
            {
                result = await host.Phases.RunAsync(workflowId, request, (start, _) => Started(context, request, start), cancellationToken);
            }
            catch (NotAPhaseWorkflowException ex)
            {
                throw new UsageException(
                    $"Workflow '{ex.WorkflowId}' runs the workflow definition '{ex.WorkflowType}' in the engine; phases only run workflows made by `ratchet state new`. Use `ratchet resume {ex.WorkflowId}` or `ratchet retry {ex.WorkflowId}` for it.");
            }
            catch (InvalidTransitionException ex) when (ex.From is WorkflowStatus.Completed or WorkflowStatus.Cancelled)
            {
                var type = (await host.Store.GetRequiredWorkflowAsync(workflowId, CancellationToken.None)).Type;
                throw new InvalidTransitionException(ex.WorkflowId, ex.From, ex.To, $"{ex.Message} Start a new workflow with `ratchet state new --type {type}`.");
            }

            return await ReportAsync(context, request, result);
        }));
        return command;
    }

    /// <summary>A phase that retries a failed workflow says so before it runs.</summary>
    private static Task Started(CliContext context, PhaseRequest request, PhaseStart start) => start.RetriedAfter is { } error
        ? context.Error.WriteLineAsync(
            $"ratchet: workflow {start.Workflow.Id} had failed{(error.Node is { } node ? $" at phase '{node}'" : "")}; retrying it from phase '{request.Name}'.")
        : Task.CompletedTask;

    /// <summary>How the phase ended, on standard error; the state JSON on standard output for the next phase, unless it failed.</summary>
    private static async Task<int> ReportAsync(CliContext context, PhaseRequest request, PhaseRunResult result)
    {
        var workflow = result.Workflow;
        switch (result.Outcome)
        {
            case PhaseOutcome.Skipped:
                await context.Error.WriteLineAsync(
                    $"ratchet: phase '{request.Name}' of workflow {workflow.Id} already completed (attempt {result.Step!.Attempt}, {StateCommands.Time(result.Step.FinishedAt)}); skipped.");
                break;
            case PhaseOutcome.Completed:
                var took = (result.Step?.FinishedAt ?? workflow.UpdatedAt) - result.Start!.Workflow.UpdatedAt;
                await context.Error.WriteLineAsync(
                    $"ratchet: phase '{request.Name}' of workflow {workflow.Id} completed in {StateCommands.Duration(took)}{(workflow.Status == WorkflowStatus.Completed ? "; the workflow is Completed" : "")}.");
                break;
            case PhaseOutcome.Failed:
                throw new PhaseException("phase-failed",
                    $"Phase '{request.Name}' of workflow {workflow.Id} failed{(result.Attempts > 1 ? $" after {result.Attempts} attempts" : "")}: {PhaseRunner.FailureDetail(result)} " +
                    "The workflow is marked Failed; fix the cause and run the pipeline again: completed phases are skipped and this one is retried.");
            case PhaseOutcome.Cancelled:
                throw new PhaseException("phase-cancelled", $"Workflow {workflow.Id} was cancelled while its phase '{request.Name}' ran: {workflow.Error?.Message.TrimEnd('.')}.");
            default:
                // Ctrl-C: the command was stopped and the attempt recorded as interrupted, to run again as it is.
                await context.Error.WriteLineAsync(
                    $"ratchet: interrupted; phase '{request.Name}' of workflow {workflow.Id} is left resumable (attempt {workflow.Attempt}, no retry used): it runs again when the pipeline is run again, or with `ratchet resume {workflow.Id}`.");
                return ExitCodes.Interrupted;
        }

        await context.Output.WriteLineAsync(PhaseState.Serialize(workflow, indented: context.IsTerminal));
        return ExitCodes.Ok;
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
    internal static string ValidateName(string name) => PhaseRunner.NameProblem(name) is { } problem ? throw new UsageException(problem) : name;

    /// <summary>The workflow id from the state JSON on standard input (or any JSON with <c>workflow.id</c> or a top-level <c>id</c>).</summary>
    private static async Task<string> ReadIdAsync(CancellationToken cancellationToken)
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

    internal static string ParseId(string text)
    {
        const string Expected = "Standard input is not a Ratchet state JSON: expected {\"workflow\": {\"id\": ...}, ...} as printed by `ratchet state new` or `ratchet phase`";
        try
        {
            return PhaseState.FindId(text) ?? throw new UsageException($"{Expected}.");
        }
        catch (JsonException ex)
        {
            throw new UsageException($"{Expected} ({ex.Message}).");
        }
    }

    /// <summary>Each attempt after the first (or of a phase that may retry) and each retry's wait, on standard error, as they happen.</summary>
    private sealed class PhaseProgress(CliContext context, PhaseRequest request, string workflowId) : IWorkflowObserver
    {
        public ValueTask OnEventAsync(WorkflowEvent workflowEvent, CancellationToken cancellationToken)
        {
            if (workflowEvent.WorkflowId != workflowId || workflowEvent.Node != request.Name)
            {
                return ValueTask.CompletedTask;
            }

            var line = workflowEvent switch
            {
                { Kind: WorkflowEventKind.NodeStarted, Attempt: { } attempt } when attempt > 1 || request.Retries > 0 =>
                    $"ratchet: phase '{request.Name}' of workflow {workflowId}: attempt {attempt}; log {Path.Combine(context.Folders.RunFolder(workflowId), "logs", request.Name + ".log")}",
                { Kind: WorkflowEventKind.RetryScheduled, Attempt: { } next, DueAt: { } due } =>
                    $"ratchet: phase '{request.Name}' of workflow {workflowId}: attempt {next - 1} failed ({Summary(workflowEvent.Error)}); retrying in {StateCommands.Duration(due - workflowEvent.At)}.",
                _ => null,
            };
            if (line is not null)
            {
                context.WriteErrorLine(line);
            }

            return ValueTask.CompletedTask;
        }

        /// <summary>What went wrong, without the phase's name or where its log is (the attempt's line said that).</summary>
        private string Summary(WorkflowError? error)
        {
            var message = error?.Message ?? "it failed";
            var prefix = $"Phase '{request.Name}' ";
            message = message.StartsWith(prefix, StringComparison.Ordinal) ? message[prefix.Length..] : message;
            var log = message.IndexOf(" Its log is ", StringComparison.Ordinal);
            return (log < 0 ? message : message[..log]).TrimEnd('.');
        }
    }
}

/// <summary>A phase did not succeed (its command failed, or there was no state to work on); exit code 1.</summary>
internal sealed class PhaseException(string errorCode, string message) : RatchetException(message)
{
    public override string ErrorCode { get; } = errorCode;
}
