using Ratchet.Engine;
using YamlDotNet.RepresentationModel;

namespace Ratchet.Yaml;

/// <summary>
/// One node kind of workflow files, keyed by its verb (<c>run:</c>, <c>approval:</c>, <c>workflow:</c>, <c>http:</c>):
/// it reads the verb's value and the kind's own keys, checks them with their line and column, and compiles the node
/// for the engine. The keys every node has (<c>description</c>, <c>retry</c>, <c>timeout</c>, <c>next</c>, <c>on</c>,
/// <c>fails_workflow</c>) are read once by the parser and applied once by the compiler, so a new kind is one reader
/// and one line in <see cref="NodeReaders"/>.
/// </summary>
internal abstract class NodeReader
{
    /// <summary>The key that makes a node of this kind, e.g. <c>run</c>.</summary>
    public abstract string Verb { get; }

    /// <summary>What the verb's value is, for the message of a node that has no verb, e.g. "a shell command".</summary>
    public abstract string Summary { get; }

    /// <summary>The kind's own keys beside its verb (at the node's level), e.g. <c>env</c> for <c>run:</c>.</summary>
    public virtual IReadOnlyList<string> Keys => [];

    /// <summary>Whether an attempt of this kind can be stopped, so that <c>timeout</c> (the node's, else the defaults') limits it.</summary>
    public virtual bool HasTimeout => false;

    /// <summary>Whether an <c>on:</c> entry of this kind applies; <c>success</c> and <c>failure</c> apply to every kind.</summary>
    public virtual bool Takes(TransitionKind transition) => transition is TransitionKind.Success or TransitionKind.Failure;

    /// <summary>The node's retry policy, from its own (<paramref name="own"/>) and the file's default; null leaves the workflow's default.</summary>
    public virtual RetryPolicy? Retry(RetryPolicy? own, RetryPolicy fileDefault) => own;

    /// <summary>Reads the node's verb and own keys into its spec; null when they are wrong (each problem is reported on <see cref="NodeReading.Yaml"/>).</summary>
    public abstract NodeSpec? Read(NodeReading node);

    /// <summary>Adds the node to <paramref name="compilation"/>'s builder; what every node has is added after it by the compiler.</summary>
    public abstract void Compile(NodeSpec spec, NodeCompilation compilation);
}

/// <summary>A <see cref="NodeReader"/> of the spec type <typeparamref name="TSpec"/>.</summary>
internal abstract class NodeReader<TSpec> : NodeReader
    where TSpec : NodeSpec
{
    public sealed override void Compile(NodeSpec spec, NodeCompilation compilation) => Compile((TSpec)spec, compilation);

    protected abstract void Compile(TSpec spec, NodeCompilation compilation);
}

/// <summary>The node kinds workflow files know, by verb, in the order messages list them.</summary>
internal static class NodeReaders
{
    /// <summary>Every reader. Registering a kind is adding its reader here.</summary>
    public static IReadOnlyList<NodeReader> All { get; } =
    [
        new RunNodeReader(),
        new ApprovalNodeReader(),
        new SubWorkflowNodeReader(),
        new HttpNodeReader(),
        new SleepNodeReader(),
        new WaitNodeReader(),
    ];

    /// <summary>The reader of each verb.</summary>
    public static IReadOnlyDictionary<string, NodeReader> ByVerb { get; } = All.ToDictionary(r => r.Verb, StringComparer.Ordinal);

    /// <summary>The verbs as a choice for messages: <c>'run', 'approval', 'workflow' or 'http'</c>.</summary>
    public static string Choice(Func<NodeReader, string> describe) =>
        string.Join(", ", All.SkipLast(1).Select(describe)) + " or " + describe(All[^1]);
}

/// <summary>One node being read: its name, its verb's value and its kind's own keys, and the file's reader for checking them.</summary>
internal sealed class NodeReading(WorkflowFileParser.Reader yaml, string name, YamlNode verb, IReadOnlyDictionary<string, YamlNode> keys)
{
    /// <summary>The file being read: typed values, templates, and problems with their positions.</summary>
    public WorkflowFileParser.Reader Yaml { get; } = yaml;

    /// <summary>The node's name.</summary>
    public string Name { get; } = name;

    /// <summary>The verb's value.</summary>
    public YamlNode Verb { get; } = verb;

    /// <summary>The value of one of the kind's own keys; null when the node does not have it.</summary>
    public YamlNode? Key(string key) => keys.GetValueOrDefault(key);

    /// <summary>The text of one of the kind's own keys; null when absent (or not a single value, which is reported).</summary>
    public string? Text(string key) => Key(key) is { } value ? Yaml.Text(value, key) : null;
}

/// <summary>What a reader compiles a node into: the definition's builder, and the file and settings the node runs with.</summary>
internal sealed record NodeCompilation(WorkflowBuilder Builder, WorkflowFile File, ShellOptions Options, IReadOnlyDictionary<string, WorkflowFile> Children)
{
    /// <summary>Where an isolated run's workspace is (by workflow id), for what templates show; null with <c>workspace: shared</c>.</summary>
    public string? WorkspacesDirectory => File.Workspace == WorkspaceMode.Isolated ? Path.GetFullPath(Options.WorkspacesDirectory) : null;
}
