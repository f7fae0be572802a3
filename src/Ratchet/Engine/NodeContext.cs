using System.Diagnostics.CodeAnalysis;
using System.Text.Json;

namespace Ratchet.Engine;

/// <summary>Everything a running node can see and do: its workflow's input and artifacts, its attempt, progress, cancellation.</summary>
public sealed class NodeContext
{
    private readonly Func<string, CancellationToken, Task> _reportProgress;
    private readonly Func<ProcessGroup, CancellationToken, Task> _recordProcessGroup;
    private Dictionary<string, JsonElement>? _set;
    private List<CommandExecution>? _commands;

    internal NodeContext(
        WorkflowRecord workflow,
        string node,
        int attempt,
        IServiceProvider services,
        TimeProvider clock,
        Func<string, CancellationToken, Task> reportProgress,
        CancellationToken cancellationToken,
        Func<ProcessGroup, CancellationToken, Task>? recordProcessGroup = null)
    {
        _recordProcessGroup = recordProcessGroup ?? (static (_, _) => Task.CompletedTask);
        Workflow = workflow;
        Node = node;
        Attempt = attempt;
        Services = services;
        Clock = clock;
        _reportProgress = reportProgress;
        CancellationToken = cancellationToken;
    }

    /// <summary>The workflow as stored when the node started.</summary>
    public WorkflowRecord Workflow { get; }

    /// <summary>The workflow's id.</summary>
    public string WorkflowId => Workflow.Id;

    /// <summary>The workflow's type.</summary>
    public string WorkflowType => Workflow.Type;

    /// <summary>The running node.</summary>
    public string Node { get; }

    /// <summary>This run's attempt number: 1 the first time, more after a retry or a crash.</summary>
    public int Attempt { get; }

    /// <summary>
    /// <c>{workflow id}/{node}/{attempt}</c>: unique per node attempt and the same if this attempt is looked at again,
    /// for making side effects idempotent (pass it as an idempotency key to APIs that take one).
    /// </summary>
    public string IdempotencyKey => $"{Workflow.Id}/{Node}/{Attempt}";

    /// <summary>The workflow's input.</summary>
    public JsonElement? Input => Workflow.Input;

    /// <summary>The workflow's metadata.</summary>
    public JsonElement? Metadata => Workflow.Metadata;

    /// <summary>The error that sent the workflow down a failure path, when this node is on one; its <see cref="WorkflowError.Node"/> names the node that failed.</summary>
    public WorkflowError? LastError => Workflow.Error;

    /// <summary>The outputs of finished nodes (and values set with <see cref="Set{T}"/>), by name.</summary>
    public IReadOnlyDictionary<string, JsonElement> Artifacts => Workflow.Artifacts;

    /// <summary>The engine's services, for nodes that resolve their own dependencies.</summary>
    public IServiceProvider Services { get; }

    /// <summary>The engine's clock.</summary>
    public TimeProvider Clock { get; }

    /// <summary>
    /// How long a command this node started may take to exit after it was asked to stop (SIGTERM to its process group)
    /// before it is killed (SIGKILL): <see cref="RatchetOptions.StopGracePeriod"/>.
    /// </summary>
    public TimeSpan StopGracePeriod { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>Signalled when the workflow is cancelled, the node times out or the worker stops.</summary>
    public CancellationToken CancellationToken { get; }

    /// <summary>The input as <typeparamref name="T"/>; default if there is none.</summary>
    public T? GetInput<T>() => Input is { } input ? input.Deserialize<T>(WorkflowJson.Options) : default;

    /// <summary>The artifact <paramref name="key"/> (a node's name, or a key given to <see cref="Set{T}"/>) as <typeparamref name="T"/>.</summary>
    /// <exception cref="KeyNotFoundException">There is no such artifact.</exception>
    public T Get<T>(string key) => TryGet<T>(key, out var value)
        ? value
        : throw new KeyNotFoundException($"Workflow '{WorkflowId}' has no artifact '{key}'. Artifacts: {string.Join(", ", AllKeys())}.");

    /// <summary>Reads the artifact <paramref name="key"/> if it exists.</summary>
    public bool TryGet<T>(string key, [MaybeNullWhen(false)] out T value)
    {
        ArgumentNullException.ThrowIfNull(key);
        if ((_set is not null && _set.TryGetValue(key, out var element)) || Artifacts.TryGetValue(key, out element))
        {
            value = element.Deserialize<T>(WorkflowJson.Options)!;
            return true;
        }

        value = default;
        return false;
    }

    /// <summary>Saves an artifact under <paramref name="key"/>; it is committed with this node's result.</summary>
    public void Set<T>(string key, T value)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(key);
        (_set ??= new Dictionary<string, JsonElement>(StringComparer.Ordinal))[key] = NodeResult.ToJson(value);
    }

    /// <summary>Tells observers how the node is getting on; also kept in the audit trail with the node's result.</summary>
    public Task ReportProgressAsync(string message, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(message);
        return _reportProgress(message, cancellationToken);
    }

    /// <summary>
    /// Records a shell command this node ran (command line and outputs already redacted of secrets); it is committed
    /// with the node's result, success or failure, with a <c>command-executed</c> audit event.
    /// </summary>
    public void RecordCommand(CommandExecution command)
    {
        ArgumentNullException.ThrowIfNull(command);
        lock (this)
        {
            (_commands ??= []).Add(command with { WorkflowId = WorkflowId, Node = Node, Attempt = Attempt });
        }
    }

    /// <summary>
    /// Records, durably and before the command it leads is let run, a process group this node started: whoever takes
    /// this attempt over on the same machine (after a crash of this process) stops the group first, so the node never
    /// runs twice at once. Await it before the command does anything.
    /// </summary>
    public Task RecordProcessGroupAsync(ProcessGroup group, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(group);
        return _recordProcessGroup(group, cancellationToken);
    }

    internal IReadOnlyDictionary<string, JsonElement>? SetArtifacts => _set;

    internal IReadOnlyList<CommandExecution> Commands
    {
        get
        {
            lock (this)
            {
                return _commands is null ? [] : [.. _commands];
            }
        }
    }

    private IEnumerable<string> AllKeys() => Artifacts.Keys.Concat(_set?.Keys ?? Enumerable.Empty<string>()).Distinct(StringComparer.Ordinal);
}
