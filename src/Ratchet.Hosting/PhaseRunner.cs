using System.Text.Json;
using Ratchet.Engine;
using Ratchet.Serialization;

namespace Ratchet.Hosting;

/// <summary>A shell command to run as one durable phase of a workflow run by phases.</summary>
public sealed record PhaseRequest
{
    /// <summary>
    /// The phase's name (see <see cref="PhaseRunner.NameProblem"/>): the node in the journal, the artifact's key, the
    /// log's name. A phase of that name that completed before in the workflow is not run again.
    /// </summary>
    public required string Name { get; init; }

    /// <summary>The command line for <c>{shell} -c</c>.</summary>
    public required string CommandLine { get; init; }

    /// <summary>How many times to run the command again after it fails. Default 0.</summary>
    public int Retries { get; init; }

    /// <summary>The wait before the first retry, doubling with jitter for each next one, at most 5 minutes. Default 1 second.</summary>
    public TimeSpan RetryDelay { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>How long one attempt may run before it is stopped and counts as failed; null for no limit.</summary>
    public TimeSpan? Timeout { get; init; }

    /// <summary>Whether standard output must be one JSON value (the artifact) rather than text.</summary>
    public bool JsonOutput { get; init; }

    /// <summary>Whether the workflow completes once this phase has completed.</summary>
    public bool Final { get; init; }

    /// <summary>Where the command runs; null for the current directory. A resumed phase runs there too.</summary>
    public string? WorkingDirectory { get; init; }
}

/// <summary>What <see cref="PhaseRunner.CreateWorkflowAsync"/> did.</summary>
/// <param name="Workflow">The workflow as stored.</param>
/// <param name="Created">False when the id existed and that workflow was returned.</param>
/// <param name="InputsDiffer">For an existing workflow, whether the inputs given differ from its own (they are ignored).</param>
public sealed record PhaseWorkflowCreated(WorkflowRecord Workflow, bool Created, bool InputsDiffer);

/// <summary>
/// Workflows run by phases, for screens: create one, run a shell command as one of its phases. The phase runs through
/// the engine (<see cref="WorkflowEngine.RunPhaseAsync"/>): every attempt is committed, a retry waits as a due time in
/// the store, and a phase whose process died is run on by <c>resume</c> or any worker.
/// </summary>
public sealed class PhaseRunner
{
    private readonly WorkflowEngine _engine;

    internal PhaseRunner(WorkflowEngine engine) => _engine = engine;

    /// <summary>
    /// What is wrong with <paramref name="name"/> as a phase name, or null: phase names become node names, artifact keys
    /// and log file names, so they are the same narrow set as YAML node names.
    /// </summary>
    public static string? NameProblem(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        return name.Length is > 0 and <= 64 && char.IsAsciiLetterOrDigit(name[0]) && name.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.')
            ? null
            : $"The phase name '{name}' must be 1 to 64 letters, digits, '-', '_' or '.', starting with a letter or digit.";
    }

    /// <summary>What is wrong with <paramref name="type"/> as the type of a workflow run by phases, or null.</summary>
    public static string? TypeProblem(string type)
    {
        ArgumentNullException.ThrowIfNull(type);
        return type.Length > 0 && char.IsAsciiLetterOrDigit(type[0]) && type.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.')
            ? null
            : $"The type '{type}' must be letters, digits, '-', '_' or '.', starting with a letter or digit.";
    }

    /// <summary>
    /// Creates a workflow run by phases with string inputs, or returns the one with <paramref name="id"/> (of the same
    /// type) as it is: re-running a pipeline goes on with it.
    /// </summary>
    /// <exception cref="ArgumentException">The type is not a valid name (<see cref="TypeProblem"/>).</exception>
    /// <exception cref="WorkflowAlreadyExistsException">The id is taken by a workflow of another type.</exception>
    public async Task<PhaseWorkflowCreated> CreateWorkflowAsync(string type, string? id, IReadOnlyDictionary<string, string> inputs, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        if (TypeProblem(type) is { } problem)
        {
            throw new ArgumentException(problem, nameof(type));
        }

        var input = RatchetJson.ParseDocument(RatchetJson.MapToText(inputs.ToDictionary(
            p => p.Key, p => JsonSerializer.SerializeToElement(p.Value, RatchetJsonContext.Default.String), StringComparer.Ordinal)));
        var result = await _engine.CreatePhaseWorkflowAsync(type, id, input, cancellationToken);
        return new PhaseWorkflowCreated(result.Workflow, result.Created, !result.Created && inputs.Count > 0 && !RatchetJson.DeepEquals(result.Workflow.Input, input));
    }

    /// <summary>Runs <paramref name="request"/> as a phase of <paramref name="workflowId"/>; see <see cref="WorkflowEngine.RunPhaseAsync"/>.</summary>
    /// <exception cref="ArgumentException">The request is not valid (its name, its retries, its timeout).</exception>
    public Task<PhaseRunResult> RunAsync(string workflowId, PhaseRequest request, Func<PhaseStart, CancellationToken, Task>? started = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (NameProblem(request.Name) is { } problem)
        {
            throw new ArgumentException(problem, nameof(request));
        }

        if (request.Retries < 0 || request.Timeout <= TimeSpan.Zero)
        {
            throw new ArgumentException($"Phase '{request.Name}' needs 0 or more retries and a timeout above zero.", nameof(request));
        }

        var command = new ShellPhase(request.CommandLine, Path.GetFullPath(request.WorkingDirectory ?? Directory.GetCurrentDirectory()), request.JsonOutput, request.Timeout);
        return _engine.RunPhaseAsync(workflowId, new PhaseSpec
        {
            Name = request.Name,
            Node = command.ToJson(),
            MaxAttempts = request.Retries + 1,
            RetryDelay = request.RetryDelay,
            Final = request.Final,
        }, started, cancellationToken);
    }

    /// <summary>Why a phase failed, without its name (the stored error names it, being read on its own later).</summary>
    public static string FailureDetail(PhaseRunResult result)
    {
        ArgumentNullException.ThrowIfNull(result);
        var error = result.Workflow.Error;
        var prefix = $"Phase '{result.Workflow.CurrentNode}' ";
        return error is null ? "it failed." : error.Message.StartsWith(prefix, StringComparison.Ordinal) ? error.Message[prefix.Length..] : error.Message;
    }
}
