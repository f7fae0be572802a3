using System.Text.Json;

namespace Ratchet.Yaml;

/// <summary>Where something is in a workflow file: 1-based line and column.</summary>
public readonly record struct SourcePosition(int Line, int Column)
{
    /// <inheritdoc />
    public override string ToString() => $"{Line}:{Column}";
}

/// <summary>The type of a workflow input, for converting <c>--input key=value</c> text.</summary>
public enum InputType
{
    /// <summary>Text, as given.</summary>
    String,

    /// <summary>A whole number.</summary>
    Integer,

    /// <summary>Any number.</summary>
    Number,

    /// <summary>true or false.</summary>
    Boolean,

    /// <summary>Any JSON value.</summary>
    Json,
}

/// <summary>What a node's standard output becomes.</summary>
public enum OutputMode
{
    /// <summary>The text of standard output (trailing newline removed) is the node's artifact.</summary>
    Text,

    /// <summary>Standard output is parsed as JSON and is the node's artifact; invalid JSON fails the node.</summary>
    Json,

    /// <summary>Standard output is only logged; the node's artifact is its exit code.</summary>
    None,
}

/// <summary>Whether a workflow gets a working directory of its own.</summary>
public enum WorkspaceMode
{
    /// <summary>Commands run in the workflow's working directory.</summary>
    Shared,

    /// <summary>Each workflow runs in its own directory (a <c>git worktree</c> when the file is inside a git repository).</summary>
    Isolated,
}

/// <summary>A declared input.</summary>
public sealed record InputSpec(string Name, InputType Type, bool Required, JsonElement? Default, string? Description, SourcePosition Position);

/// <summary>A retry policy as written: <c>retry: 3</c> or <c>retry: { max_attempts: 3, delay: 2s, backoff: 2, max_delay: 1m, jitter: 0.2 }</c>.</summary>
public sealed record RetrySpec(int MaxAttempts, TimeSpan Delay, double Backoff, TimeSpan MaxDelay, double Jitter);

/// <summary>How a transition is chosen.</summary>
public enum TransitionKind
{
    /// <summary><c>success</c>: the command exited 0 and no condition matched.</summary>
    Success,

    /// <summary><c>failure</c>: the node failed for good (after retries).</summary>
    Failure,

    /// <summary><c>exit N</c>: the command exited with N (a result, not a failure).</summary>
    ExitCode,

    /// <summary><c>approved</c>, for approval nodes.</summary>
    Approved,

    /// <summary><c>rejected</c>, for approval nodes.</summary>
    Rejected,

    /// <summary>A condition over the node's output, e.g. <c>output.status == 'done'</c>.</summary>
    Condition,

    /// <summary><c>timeout</c>, for a wait for a signal that did not come in time.</summary>
    Timeout,
}

/// <summary>One entry of a node's <c>on:</c> map.</summary>
public sealed record TransitionSpec(TransitionKind Kind, string Key, string Target, SourcePosition Position)
{
    /// <summary>For <see cref="TransitionKind.ExitCode"/>: the code.</summary>
    public int ExitCode { get; init; }
}

/// <summary>
/// One node as written in a workflow file: the keys every node has. What the node does is its type, one sealed record
/// per verb (<see cref="RunNodeSpec"/> for <c>run:</c>, <see cref="ApprovalNodeSpec"/>, <see cref="SubWorkflowNodeSpec"/>,
/// <see cref="HttpNodeSpec"/>), each holding only its own keys.
/// </summary>
public abstract record NodeSpec
{
    // The kinds are this assembly's: each is read and compiled by its NodeReader.
    private protected NodeSpec()
    {
    }

    /// <summary>The node's name (its key under <c>nodes:</c>).</summary>
    public string Name { get; init; } = "";

    /// <summary>Where the node starts in the file.</summary>
    public SourcePosition Position { get; init; }

    /// <summary>The key that says what the node does: <c>run</c>, <c>approval</c>, <c>workflow</c>, <c>http</c>.</summary>
    public string Verb => Reader.Verb;

    /// <summary>An optional description.</summary>
    public string? Description { get; init; }

    /// <summary>The node's retry policy, if it has its own.</summary>
    public RetrySpec? Retry { get; init; }

    /// <summary>How long one attempt may run (for the kinds an attempt of which can be stopped: <c>run</c>, <c>http</c>).</summary>
    public TimeSpan? Timeout { get; init; }

    /// <summary>The node after success: a node name or <c>end</c>; null for the next node in the file.</summary>
    public string? Next { get; init; }

    /// <summary>Where <see cref="Next"/> is written.</summary>
    public SourcePosition? NextPosition { get; init; }

    /// <summary>The <c>on:</c> transitions, in file order.</summary>
    public IReadOnlyList<TransitionSpec> Transitions { get; init; } = [];

    /// <summary>Finishing this node ends the workflow as Failed (the last node of a failure path).</summary>
    public bool FailsWorkflow { get; init; }

    /// <summary>The reader of this node's verb, which compiles it too.</summary>
    internal NodeReader Reader { get; init; } = null!;
}

/// <summary>Settings every node starts from.</summary>
public sealed record NodeDefaults
{
    /// <summary>The retry policy of nodes without one.</summary>
    public RetrySpec? Retry { get; init; }

    /// <summary>The timeout of nodes without one.</summary>
    public TimeSpan? Timeout { get; init; }

    /// <summary>Environment variables for every command.</summary>
    public IReadOnlyList<KeyValuePair<string, string>> Env { get; init; } = [];

    /// <summary>The working directory of every command, relative to the file's folder.</summary>
    public string? WorkingDirectory { get; init; }
}

/// <summary>A parsed, validated workflow file.</summary>
public sealed record WorkflowFile
{
    /// <summary>The file's full path.</summary>
    public required string Path { get; init; }

    /// <summary>The file's text (kept so that a run can keep the exact definition it started with).</summary>
    public required string Text { get; init; }

    /// <summary>The workflow's name: its type.</summary>
    public required string Name { get; init; }

    /// <summary>An optional description.</summary>
    public string? Description { get; init; }

    /// <summary>The author's version label, if any (the engine also hashes the definition).</summary>
    public string? VersionLabel { get; init; }

    /// <summary>Declared inputs.</summary>
    public IReadOnlyList<InputSpec> Inputs { get; init; } = [];

    /// <summary>Defaults for every node.</summary>
    public NodeDefaults Defaults { get; init; } = new();

    /// <summary>Whether each run gets its own working directory.</summary>
    public WorkspaceMode Workspace { get; init; }

    /// <summary>How long a whole run may take.</summary>
    public TimeSpan? Timeout { get; init; }

    /// <summary>How many nodes one run may visit before it fails as a runaway loop (<c>max_visits:</c>); null for the engine's default, 1000.</summary>
    public int? MaxVisits { get; init; }

    /// <summary>The queue the workflow's runs wait in (<c>queue:</c>); null for none.</summary>
    public QueueSpec? Queue { get; init; }

    /// <summary>The nodes, in file order.</summary>
    public required IReadOnlyList<NodeSpec> Nodes { get; init; }

    /// <summary>The folder the file is in: relative paths in it are relative to this.</summary>
    public string Directory => System.IO.Path.GetDirectoryName(Path) ?? ".";
}

/// <summary>
/// <c>queue:</c> of a workflow: the queue's name, the run's partition key and priority (templates over
/// <c>inputs</c>), and limits that are stored for the queue when it is not set in the store yet.
/// </summary>
public sealed record QueueSpec
{
    /// <summary>The queue's name.</summary>
    public required string Name { get; init; }

    /// <summary>A template rendering the partition key, e.g. <c>{{ inputs.repo }}</c>; null for none.</summary>
    public string? Partition { get; init; }

    /// <summary>A whole number or a template rendering one; null for 0.</summary>
    public string? Priority { get; init; }

    /// <summary>Limits for the queue (set in the store when it has none); null to leave them to <c>ratchet queue set</c>.</summary>
    public Queues.QueueDefinition? Limits { get; init; }
}
