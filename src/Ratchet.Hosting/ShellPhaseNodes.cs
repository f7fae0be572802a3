using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Ratchet.Engine;
using Ratchet.Serialization;
using Ratchet.Storage;
using Ratchet.Yaml;

namespace Ratchet.Hosting;

/// <summary>What a shell phase runs, as recorded in its <see cref="PhaseSpec.Node"/>.</summary>
/// <param name="CommandLine">The command line for <c>{shell} -c</c>.</param>
/// <param name="WorkingDirectory">Where it runs: the directory of the process that started the phase, so a resumed phase runs there too.</param>
/// <param name="JsonOutput">Whether standard output must be one JSON value (the artifact), rather than text.</param>
/// <param name="Timeout">How long one attempt may run before it is stopped and counts as failed; null for no limit.</param>
internal sealed record ShellPhase(string CommandLine, string WorkingDirectory, bool JsonOutput, TimeSpan? Timeout)
{
    /// <summary>As a phase's <see cref="PhaseSpec.Node"/>.</summary>
    public JsonElement ToJson() => RatchetJson.ParseDocument(new JsonObject
    {
        ["command"] = CommandLine,
        ["directory"] = WorkingDirectory,
        ["outputs"] = JsonOutput ? "json" : "text",
        ["timeoutMs"] = Timeout is { } limit ? (long)limit.TotalMilliseconds : null,
    }.ToJsonString());

    /// <summary>Reads a phase's <see cref="PhaseSpec.Node"/>.</summary>
    /// <exception cref="ArgumentException">It is not a shell phase's.</exception>
    public static ShellPhase FromJson(JsonElement node)
    {
        if (node.ValueKind != JsonValueKind.Object || !node.TryGetProperty("command", out var command) || command.ValueKind != JsonValueKind.String ||
            !node.TryGetProperty("directory", out var directory) || directory.ValueKind != JsonValueKind.String)
        {
            throw new ArgumentException($"The recorded phase {node.GetRawText()} is not a shell command's: it needs \"command\" and \"directory\".", nameof(node));
        }

        return new ShellPhase(
            command.GetString()!,
            directory.GetString()!,
            node.TryGetProperty("outputs", out var outputs) && outputs.ValueKind == JsonValueKind.String && outputs.GetString() == "json",
            node.TryGetProperty("timeoutMs", out var timeout) && timeout.ValueKind == JsonValueKind.Number && timeout.TryGetInt64(out var ms) ? TimeSpan.FromMilliseconds(ms) : null);
    }
}

/// <summary>Phases that run shell commands, as YAML nodes do (state JSON on standard input, <c>RATCHET_*</c> variables, masked logs and records).</summary>
internal sealed class ShellPhaseNodes(ShellOptions shell, string storeUri) : IPhaseNodeFactory
{
    public IWorkflowNode Create(WorkflowRecord workflow, PhaseSpec phase) => new ShellPhaseNode(shell, storeUri, ShellPhase.FromJson(phase.Node));
}

/// <summary>
/// One attempt of a shell phase: runs the command with the workflow's state JSON on standard input, records it (secrets
/// masked) with the attempt's result, and turns its exit code and output into the phase's artifact or its failure.
/// </summary>
internal sealed class ShellPhaseNode(ShellOptions shell, string storeUri, ShellPhase phase) : IWorkflowNode
{
    public async Task<NodeResult> ExecuteAsync(NodeContext context, CancellationToken cancellationToken)
    {
        var name = context.Node;
        var redactor = shell.Redactor.With(shell.ArtifactRedactor);
        var logPath = Path.Combine(shell.RunsDirectory, context.WorkflowId, "logs", $"{name}.log");
        var started = context.Clock.GetStoreNow();
        using var timeout = phase.Timeout is { } limit ? new CancellationTokenSource(limit, context.Clock) : new CancellationTokenSource();
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timeout.Token);
        CommandResult? result = null;
        try
        {
            result = await new CommandRunner(shell).RunAsync(new CommandRequest
            {
                CommandLine = phase.CommandLine,
                WorkingDirectory = phase.WorkingDirectory,
                Environment = Variables(context),
                StandardInput = PhaseState.Serialize(context.Workflow, indented: false, (name, context.Attempt, context.IdempotencyKey)) + "\n",
                LogPath = logPath,
                LogHeader = $"== {started:O} attempt {context.Attempt}: {redactor.Redact(phase.CommandLine)} (in {phase.WorkingDirectory})",
                Redactor = redactor,
                StopGracePeriod = context.StopGracePeriod,
                RecordGroup = context.RecordProcessGroupAsync,
            }, linked.Token);
        }
        catch (OperationCanceledException) when (timeout.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            // Timed out: the runner stopped the command; the attempt failed (a stop from outside is not a failure, below).
        }
        catch (OperationCanceledException)
        {
            Record(context, redactor, null, context.Clock.GetStoreNow() - started, started);
            throw;
        }

        Record(context, redactor, result, result?.Duration ?? context.Clock.GetStoreNow() - started, started);
        return Evaluate(name, result, logPath);
    }

    /// <summary>The attempt's artifact (Ratchet's own keys masked, as for workflow nodes), or why it failed, naming the phase and its log.</summary>
    private NodeResult Evaluate(string name, CommandResult? result, string logPath)
    {
        if (result is null)
        {
            throw Failed("timeout", $"timed out after {Durations.Format(phase.Timeout!.Value)} and was stopped. Its log is {logPath}.");
        }

        if (result.ExitCode != 0)
        {
            var reason = LastLine(result.StderrTail) ?? LastLine(result.StdoutTail) ?? "no output";
            throw Failed("command-failed", $"command exited with code {result.ExitCode}: {reason}. Its log is {logPath}.");
        }

        if (result.OutputOverflowed)
        {
            throw Failed("command-failed", $"wrote more than {Sizes.Format(shell.MaxOutputBytes)} to standard output ({result.OutputBytes} bytes); write large results to a file and print its path.");
        }

        var output = shell.ArtifactRedactor.Redact(result.Output);
        var text = output.EndsWith('\n') ? output[..^1] : output;
        if (!phase.JsonOutput)
        {
            return new NodeResult { Output = JsonSerializer.SerializeToElement(text, RatchetJsonContext.Default.String) };
        }

        if (string.IsNullOrWhiteSpace(text))
        {
            throw Failed("command-failed", "was run with --outputs json but printed nothing to standard output.");
        }

        try
        {
            return new NodeResult { Output = RatchetJson.Parse(text, "Its standard output") };
        }
        catch (JsonTooDeepException ex)
        {
            throw Failed("command-failed", $"was run with --outputs json, but {char.ToLowerInvariant(ex.Message[0])}{ex.Message[1..]}");
        }
        catch (JsonException ex)
        {
            throw Failed("command-failed", $"was run with --outputs json but its standard output is not JSON ({ex.Message}). Print only the JSON value, and logs to standard error.");
        }

        PhaseAttemptFailedException Failed(string type, string detail) => new(name, type, detail);
    }

    private Dictionary<string, string> Variables(NodeContext context)
    {
        var variables = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["RATCHET_WORKFLOW_ID"] = context.WorkflowId,
            ["RATCHET_WORKFLOW_TYPE"] = context.WorkflowType,
            ["RATCHET_NODE"] = context.Node,
            ["RATCHET_PHASE"] = context.Node,
            ["RATCHET_ATTEMPT"] = context.Attempt.ToString(CultureInfo.InvariantCulture),
            ["RATCHET_IDEMPOTENCY_KEY"] = context.IdempotencyKey,
            ["RATCHET_RUN_DIR"] = Path.Combine(shell.RunsDirectory, context.WorkflowId),

            // So that a phase's own `ratchet kv ...` calls use the same store; never its password, which is Ratchet's
            // secret (such calls find it where Npgsql looks: PGPASSWORD, ~/.pgpass).
            [StoreProviders.EnvironmentVariable] = StoreUri.WithoutPassword(storeUri),
        };
        if (context.Input is { ValueKind: JsonValueKind.Object } input)
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

    private void Record(NodeContext context, SecretRedactor redactor, CommandResult? result, TimeSpan duration, DateTimeOffset started) =>
        context.RecordCommand(new CommandExecution
        {
            WorkflowId = context.WorkflowId,
            Node = context.Node,
            Attempt = context.Attempt,
            CommandLine = redactor.Redact(phase.CommandLine),
            WorkingDirectory = phase.WorkingDirectory,
            ExitCode = result?.ExitCode,
            Duration = TimeSpan.FromTicks(duration.Ticks - (duration.Ticks % TimeSpan.TicksPerMicrosecond)),
            StdoutTail = result?.StdoutTail ?? "",
            StderrTail = result?.StderrTail ?? "",
            StartedAt = started,
        });

    private static string? LastLine(string text) =>
        text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).LastOrDefault();
}

/// <summary>An attempt of a phase failed: its command exited non-zero, timed out, or printed what the phase cannot keep.</summary>
public sealed class PhaseAttemptFailedException : RatchetException
{
    /// <summary>Creates the exception; the message is <c>Phase 'NAME' DETAIL</c>.</summary>
    public PhaseAttemptFailedException(string phase, string errorCode, string detail)
        : base($"Phase '{phase}' {detail}")
    {
        Phase = phase;
        ErrorCode = errorCode;
        Detail = detail;
    }

    /// <summary>The phase.</summary>
    public string Phase { get; }

    /// <summary>What went wrong, without the phase's name.</summary>
    public string Detail { get; }

    /// <inheritdoc />
    public override string ErrorCode { get; }
}
