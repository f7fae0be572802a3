using System.Buffers;
using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Ratchet.Engine;
using Ratchet.Expressions;
using Ratchet.Serialization;
using Ratchet.Storage;

namespace Ratchet.Yaml;

/// <summary>
/// A YAML <c>run:</c> node: renders its command template (each value written for its place in the command, so that
/// the shell runs none of it), runs it with the workflow's state as JSON on standard input and in <c>RATCHET_*</c>
/// variables, logs both output streams, records the command (secrets masked) with the node's result, and turns the
/// exit code and output into the node's outcome.
/// </summary>
internal sealed class ShellCommandNode : IVersionedNode
{
    private readonly WorkflowFile _file;
    private readonly RunNodeSpec _spec;
    private readonly ShellOptions _options;
    private readonly Template _command;
    private readonly IReadOnlyList<(string Name, Template Value)> _env;
    private readonly OutputConditions _conditions;
    private readonly HashSet<int> _exitCodes;

    public ShellCommandNode(WorkflowFile file, RunNodeSpec spec, ShellOptions options)
    {
        _file = file;
        _spec = spec;
        _options = options;
        _command = Template.Parse(spec.Command);
        _env = file.Defaults.Env.Concat(spec.Env).Select(e => (e.Key, Template.Parse(e.Value))).ToArray();
        _conditions = new OutputConditions(spec.Transitions);
        _exitCodes = spec.Transitions.Where(t => t.Kind == TransitionKind.ExitCode).Select(t => t.ExitCode).ToHashSet();
    }

    /// <summary>Everything that decides what the command does: a changed file is a new definition version.</summary>
    public string VersionKey => Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(Encoding.UTF8.GetBytes(string.Join('\n',
        [
            _spec.Command, _spec.Outputs.ToString(), _spec.WorkingDirectory ?? _file.Defaults.WorkingDirectory ?? "", _file.Workspace.ToString(),
            _spec.Agent ?? "", string.Join(';', _env.Select(e => $"{e.Name}={e.Value.Text}")),
            string.Join(';', _spec.Transitions.Select(t => $"{t.Kind}:{t.Key}->{t.Target}")),
        ]))))[..16];

    public static string ExitOutcome(int code) => $"exit {code.ToString(CultureInfo.InvariantCulture)}";

    public async Task<NodeResult> ExecuteAsync(NodeContext context, CancellationToken cancellationToken)
    {
        var workspace = await Workspaces.PrepareAsync(_file, context, _options, cancellationToken);
        var directory = WorkingDirectory(workspace);
        var scope = StateScope.Build(context, _file, workspace, output: null);
        var commandLine = _command.RenderForShell(scope);

        var agent = _spec.Agent is { } agentName
            ? _options.ResolveAgent is { } resolve
                ? await resolve(agentName, cancellationToken)
                : throw new InvalidOperationException($"Node '{_spec.Name}' names the agent '{agentName}', but no agent profiles are available here.")
            : null;
        var artifactRedactor = agent is null ? _options.ArtifactRedactor : _options.ArtifactRedactor.With(agent.Secrets);

        var variables = Variables(context, scope, workspace, agent);
        var redactor = _options.Redactor.With(artifactRedactor).With(variables.Where(v => SecretRedactor.IsSecretName(v.Key)).Select(v => v.Value));
        var started = context.Clock.GetStoreNow();
        var logPath = Path.Combine(Path.GetFullPath(_options.RunsDirectory), context.WorkflowId, "logs", $"{_spec.Name}.log");
        CommandResult result;
        try
        {
            result = await new CommandRunner(_options).RunAsync(new CommandRequest
            {
                CommandLine = commandLine,
                WorkingDirectory = directory,
                Environment = variables,
                StandardInput = scope.GetRawText() + "\n",
                LogPath = logPath,
                LogHeader = $"== {started:O} attempt {context.Attempt}: {redactor.Redact(commandLine)} (in {directory})",
                Redactor = redactor,
                StopGracePeriod = context.StopGracePeriod,
                RecordGroup = context.RecordProcessGroupAsync,
            }, cancellationToken);
        }
        catch (OperationCanceledException)
        {
            Record(context, redactor, commandLine, directory, exitCode: null, context.Clock.GetStoreNow() - started, "", "", started);
            throw;
        }

        var exitCode = result.ExitCode;

        // The artifact is stored and exported; Ratchet's own keys (an agent's key that Ratchet itself put in the
        // environment, the master key) must not be, even if the command prints them.
        var printed = artifactRedactor.Redact(result.Output);
        Record(context, redactor, commandLine, directory, exitCode, result.Duration, result.StdoutTail, result.StderrTail, started);
        if (result.OutputOverflowed)
        {
            throw new CommandFailedException(_spec.Name, exitCode,
                $"Node '{_spec.Name}' wrote more than {Sizes.Format(_options.MaxOutputBytes)} to standard output ({result.OutputBytes} bytes); write large results to a file and print its path.");
        }

        if (exitCode != 0)
        {
            if (_exitCodes.Contains(exitCode))
            {
                // A declared exit code is a result, not a failure; its output need not be what success promises.
                return new NodeResult { Outcome = ExitOutcome(exitCode), Output = LenientOutput(printed, exitCode) };
            }

            var reason = LastLine(result.StderrTail) ?? LastLine(result.StdoutTail) ?? "no output";
            throw new CommandFailedException(_spec.Name, exitCode,
                $"Node '{_spec.Name}' command exited with code {exitCode}: {reason.TrimEnd('.')}. Its log is {logPath}.");
        }

        return _conditions.Choose(context, _file, workspace, Output(printed, exitCode));
    }

    private JsonElement? LenientOutput(string text, int exitCode)
    {
        if (_spec.Outputs == OutputMode.Json && !string.IsNullOrWhiteSpace(text))
        {
            try
            {
                return RatchetJson.Parse(text);
            }
            catch (Exception ex) when (ex is JsonException or JsonTooDeepException)
            {
                // Not a value Ratchet keeps as JSON: kept as text below.
            }
        }

        return _spec.Outputs == OutputMode.None ? JsonSerializer.SerializeToElement(exitCode) : JsonSerializer.SerializeToElement(text.TrimEnd('\n'));
    }

    private JsonElement? Output(string text, int exitCode)
    {
        switch (_spec.Outputs)
        {
            case OutputMode.None:
                return JsonSerializer.SerializeToElement(exitCode);
            case OutputMode.Json:
                if (string.IsNullOrWhiteSpace(text))
                {
                    throw new CommandFailedException(_spec.Name, exitCode, $"Node '{_spec.Name}' declares 'outputs: json' but printed nothing to standard output.");
                }

                try
                {
                    return RatchetJson.Parse(text, $"The standard output of node '{_spec.Name}'");
                }
                catch (JsonTooDeepException ex)
                {
                    throw new CommandFailedException(_spec.Name, exitCode, ex.Message);
                }
                catch (JsonException ex)
                {
                    throw new CommandFailedException(_spec.Name, exitCode,
                        $"Node '{_spec.Name}' declares 'outputs: json' but its standard output is not JSON ({ex.Message}). Print only the JSON value, and logs to standard error.");
                }

            default:
                return JsonSerializer.SerializeToElement(text.EndsWith('\n') ? text.TrimEnd('\n') : text);
        }
    }

    private string WorkingDirectory(string? workspace)
    {
        var baseDirectory = workspace ?? _file.Directory;
        var relative = _spec.WorkingDirectory ?? (workspace is null ? _file.Defaults.WorkingDirectory : null);
        var directory = relative is null ? baseDirectory : Path.GetFullPath(Path.Combine(baseDirectory, relative));
        return Directory.Exists(directory)
            ? directory
            : throw new InvalidOperationException($"Node '{_spec.Name}' runs in '{directory}', which does not exist. Fix 'working_directory' in {_file.Path}.");
    }

    private Dictionary<string, string> Variables(NodeContext context, JsonElement scope, string? workspace, AgentEnvironment? agent)
    {
        var variables = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["RATCHET_WORKFLOW_ID"] = context.WorkflowId,
            ["RATCHET_WORKFLOW_TYPE"] = context.WorkflowType,
            ["RATCHET_NODE"] = context.Node,
            ["RATCHET_ATTEMPT"] = context.Attempt.ToString(CultureInfo.InvariantCulture),
            ["RATCHET_IDEMPOTENCY_KEY"] = context.IdempotencyKey,
            ["RATCHET_WORKFLOW_DIR"] = _file.Directory,
            ["RATCHET_RUN_DIR"] = Path.Combine(Path.GetFullPath(_options.RunsDirectory), context.WorkflowId),
        };
        if (workspace is not null)
        {
            variables["RATCHET_WORKSPACE"] = workspace;
        }

        // From the scope rather than the raw input, so declared defaults are there too.
        foreach (var property in scope.GetProperty("inputs").EnumerateObject())
        {
            variables["RATCHET_INPUT_" + EnvironmentName(property.Name)] = StateScope.Text(property.Value);
        }

        foreach (var (name, value) in _env)
        {
            variables[name] = value.Render(scope);
        }

        foreach (var (name, value) in agent?.Variables ?? new Dictionary<string, string>())
        {
            variables[name] = value;
        }

        return variables;
    }

    private static string EnvironmentName(string name)
    {
        var builder = new StringBuilder(name.Length);
        foreach (var c in name)
        {
            builder.Append(char.IsAsciiLetterOrDigit(c) ? char.ToUpperInvariant(c) : '_');
        }

        return builder.ToString();
    }

    private void Record(NodeContext context, SecretRedactor redactor, string commandLine, string directory, int? exitCode, TimeSpan duration, string stdoutTail, string stderrTail, DateTimeOffset started) =>
        context.RecordCommand(new CommandExecution
        {
            WorkflowId = context.WorkflowId,
            Node = _spec.Name,
            Attempt = context.Attempt,
            CommandLine = redactor.Redact(commandLine),
            WorkingDirectory = directory,
            ExitCode = exitCode,
            Duration = StoreTimeSpan(duration),
            StdoutTail = stdoutTail,
            StderrTail = stderrTail,
            StartedAt = started,
        });

    private static TimeSpan StoreTimeSpan(TimeSpan duration) => TimeSpan.FromTicks(duration.Ticks - (duration.Ticks % TimeSpan.TicksPerMicrosecond));

    private static string? LastLine(string text) =>
        text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).LastOrDefault();

}

/// <summary>A node's command failed: a non-zero exit with no <c>on: exit N</c> for it, or unusable output.</summary>
public sealed class CommandFailedException(string node, int? exitCode, string message) : RatchetException(message)
{
    /// <summary>The node.</summary>
    public string Node { get; } = node;

    /// <summary>The exit code, when the command exited.</summary>
    public int? ExitCode { get; } = exitCode;

    /// <inheritdoc />
    public override string ErrorCode => "command-failed";
}
