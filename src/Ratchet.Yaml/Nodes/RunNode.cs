using Ratchet.Engine;

namespace Ratchet.Yaml;

/// <summary>A <c>run:</c> node: a shell command (see <see cref="ShellCommandNode"/>).</summary>
public sealed record RunNodeSpec : NodeSpec
{
    internal RunNodeSpec()
    {
    }

    /// <summary>The command template.</summary>
    public string Command { get; init; } = "";

    /// <summary>Environment variables for the command, each a template; added to the defaults'.</summary>
    public IReadOnlyList<KeyValuePair<string, string>> Env { get; init; } = [];

    /// <summary>What standard output becomes.</summary>
    public OutputMode Outputs { get; init; } = OutputMode.Text;

    /// <summary>The working directory, relative to the file's folder (or the workspace).</summary>
    public string? WorkingDirectory { get; init; }

    /// <summary>The agent profile whose settings the command gets as environment variables.</summary>
    public string? Agent { get; init; }
}

/// <summary>Reads <c>run: COMMAND</c> with <c>env</c>, <c>outputs</c>, <c>working_directory</c> and <c>agent</c>.</summary>
internal sealed class RunNodeReader : NodeReader<RunNodeSpec>
{
    public override string Verb => "run";

    public override string Summary => "a shell command";

    public override IReadOnlyList<string> Keys { get; } = ["env", "outputs", "working_directory", "agent"];

    public override bool HasTimeout => true;

    public override bool Takes(TransitionKind transition) => transition is not (TransitionKind.Approved or TransitionKind.Rejected);

    public override NodeSpec? Read(NodeReading node)
    {
        var command = node.Yaml.Text(node.Verb, "run");
        if (command is null)
        {
            return null;
        }

        node.Yaml.CheckTemplate(command, node.Verb, $"the command of node '{node.Name}'", shell: true);
        return new RunNodeSpec
        {
            Command = command,
            Env = node.Key("env") is { } env ? node.Yaml.Environment(env) : [],
            Outputs = node.Key("outputs") is { } outputs ? node.Yaml.Outputs(outputs) : OutputMode.Text,
            WorkingDirectory = node.Text("working_directory"),
            Agent = node.Text("agent"),
        };
    }

    protected override void Compile(RunNodeSpec spec, NodeCompilation compilation) =>
        compilation.Builder.Node(spec.Name, new ShellCommandNode(compilation.File, spec, compilation.Options));
}
