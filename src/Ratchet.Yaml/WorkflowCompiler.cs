using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;
using Ratchet.Expressions;
using Ratchet.Engine;

namespace Ratchet.Yaml;

/// <summary>A workflow file and the engine definition it compiled to.</summary>
public sealed record CompiledWorkflow(WorkflowFile File, WorkflowDefinition Definition);

/// <summary>
/// Compiles workflow files to engine definitions: each node by the reader of its verb (<c>run:</c>
/// nodes run shell commands, <c>approval:</c> nodes wait for a human, <c>workflow:</c> nodes run another file as a
/// sub-workflow, compiled too, <c>http:</c> nodes send a request), then what every node has (transitions, retry,
/// timeout) once for all. A node without <c>next</c> goes to the node written after it; the last node ends the workflow.
/// </summary>
public static partial class WorkflowCompiler
{
    /// <summary>Loads and compiles the file at <paramref name="path"/> and every file it includes; the root comes first.</summary>
    /// <exception cref="WorkflowFileException">A file is invalid, missing, or includes itself.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled.</exception>
    public static IReadOnlyList<CompiledWorkflow> Load(string path, ShellOptions options, CancellationToken cancellationToken = default) =>
        Compile(WorkflowFileParser.Load(path, cancellationToken), options, full => WorkflowFileParser.Load(full, cancellationToken));

    /// <summary>Compiles <paramref name="root"/> and, through <paramref name="resolve"/> (full path → file), the files it includes.</summary>
    /// <exception cref="WorkflowFileException">A file is invalid, missing, or includes itself.</exception>
    public static IReadOnlyList<CompiledWorkflow> Compile(WorkflowFile root, ShellOptions options, Func<string, WorkflowFile> resolve)
    {
        ArgumentNullException.ThrowIfNull(root);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(resolve);
        var compiled = new Dictionary<string, CompiledWorkflow>(StringComparer.Ordinal);
        var order = new List<CompiledWorkflow>();
        Visit(root, [], compiled, order, options, resolve);
        return order;
    }

    private static CompiledWorkflow Visit(WorkflowFile file, List<string> stack, Dictionary<string, CompiledWorkflow> compiled, List<CompiledWorkflow> order, ShellOptions options, Func<string, WorkflowFile> resolve)
    {
        if (compiled.TryGetValue(file.Path, out var done))
        {
            return done;
        }

        stack.Add(file.Path);
        var children = new Dictionary<string, WorkflowFile>(StringComparer.Ordinal);
        foreach (var node in file.Nodes.OfType<SubWorkflowNodeSpec>())
        {
            var childPath = Path.GetFullPath(Path.Combine(file.Directory, node.WorkflowPath));
            if (stack.Contains(childPath, StringComparer.Ordinal))
            {
                throw new WorkflowFileException([new WorkflowFileProblem(file.Path, node.Position,
                    $"Node '{node.Name}' runs '{node.WorkflowPath}', which runs this file again ({string.Join(" → ", stack.Select(Path.GetFileName))} → {Path.GetFileName(childPath)}): sub-workflows cannot include themselves.")]);
            }

            WorkflowFile child;
            try
            {
                child = resolve(childPath);
            }
            catch (WorkflowFileException ex) when (ex.Problems is [{ Position: null }] && !File.Exists(childPath))
            {
                throw new WorkflowFileException([new WorkflowFileProblem(file.Path, node.Position,
                    $"Node '{node.Name}' runs '{node.WorkflowPath}', which does not exist (looked for {childPath}).")]);
            }

            var unknown = node.With.Select(w => w.Key).Where(k => child.Inputs.All(i => i.Name != k)).ToArray();
            if (unknown.Length > 0)
            {
                throw new WorkflowFileException([new WorkflowFileProblem(file.Path, node.Position,
                    $"Node '{node.Name}' passes {string.Join(", ", unknown.Select(k => $"'{k}'"))} to '{node.WorkflowPath}', which declares {(child.Inputs.Count == 0 ? "no inputs" : $"the inputs {string.Join(", ", child.Inputs.Select(i => i.Name))}")}.")]);
            }

            children[node.Name] = Visit(child, stack, compiled, order, options, resolve).File;
        }

        stack.RemoveAt(stack.Count - 1);
        var definition = Build(file, children, options);
        var result = new CompiledWorkflow(file, definition);
        if (order.FirstOrDefault(c => c.Definition.Name == definition.Name) is { } clash)
        {
            throw new WorkflowFileException([new WorkflowFileProblem(file.Path, null,
                $"The workflow name '{definition.Name}' is also used by {clash.File.Path}; names must be unique among a workflow and its sub-workflows.")]);
        }

        compiled[file.Path] = result;
        order.Insert(stack.Count == 0 ? 0 : order.Count, result);
        return result;
    }

    private static WorkflowDefinition Build(WorkflowFile file, Dictionary<string, WorkflowFile> children, ShellOptions options)
    {
        var defaultRetry = Policy(file.Defaults.Retry) ?? RetryPolicy.None;
        var builder = new WorkflowBuilder(file.Name).DefaultRetry(defaultRetry);
        var compilation = new NodeCompilation(builder, file, options, children);
        if (file.Description is not null)
        {
            builder.Description(file.Description);
        }

        if (file.MaxVisits is { } visits)
        {
            builder.MaxVisits(visits);
        }

        if (file.Queue is { } queue)
        {
            builder.Queue(QueueOf(queue));
        }

        if (file.Timeout is { } timeout)
        {
            builder.Timeout(timeout);
        }

        for (var i = 0; i < file.Nodes.Count; i++)
        {
            var node = file.Nodes[i];
            var following = i + 1 < file.Nodes.Count ? file.Nodes[i + 1].Name : WorkflowDefinition.End;
            node.Reader.Compile(node, compilation);

            var success = node.Transitions.FirstOrDefault(t => t.Kind is TransitionKind.Success or TransitionKind.Approved)?.Target
                ?? node.Next
                ?? following;
            builder.Then(Target(success));
            foreach (var transition in node.Transitions)
            {
                switch (transition.Kind)
                {
                    case TransitionKind.Failure:
                        builder.OnFailure(Target(transition.Target));
                        break;
                    case TransitionKind.ExitCode:
                        builder.On(ShellCommandNode.ExitOutcome(transition.ExitCode), Target(transition.Target));
                        break;
                    case TransitionKind.Condition:
                        builder.On(OutputConditions.Outcome(transition.Key), Target(transition.Target));
                        break;
                    case TransitionKind.Rejected:
                        builder.On(WorkflowDefinition.Rejected, Target(transition.Target));
                        break;
                    case TransitionKind.Timeout:
                        builder.On(WorkflowDefinition.TimedOut, Target(transition.Target));
                        break;
                    default:
                        break;
                }
            }

            if (node.Reader.Retry(Policy(node.Retry), defaultRetry) is { } retry)
            {
                builder.WithRetry(retry);
            }

            if ((node.Timeout ?? file.Defaults.Timeout) is { } nodeTimeout && node.Reader.HasTimeout)
            {
                builder.WithTimeout(nodeTimeout);
            }

            if (node.FailsWorkflow)
            {
                builder.FailsWorkflow();
            }

            if (node.Description is not null)
            {
                builder.Describe(node.Description);
            }
        }

        try
        {
            return builder.Build();
        }
        catch (WorkflowDefinitionException ex)
        {
            throw new WorkflowFileException(ex.Problems.Select(problem =>
            {
                var named = NodeName().Match(problem);
                var node = named.Success ? file.Nodes.FirstOrDefault(n => n.Name == named.Groups[1].Value) : null;
                return new WorkflowFileProblem(file.Path, node?.Position, problem);
            }).ToArray());
        }
    }

    private static string Target(string target) => target == WorkflowFileParser.EndTarget ? WorkflowDefinition.End : target;

    private static RetryPolicy? Policy(RetrySpec? spec) => spec is null
        ? null
        : new RetryPolicy { MaxAttempts = spec.MaxAttempts, InitialDelay = spec.Delay, BackoffFactor = spec.Backoff, MaxDelay = spec.MaxDelay, Jitter = spec.Jitter };

    [GeneratedRegex("[Nn]ode '([^']+)'")]
    private static partial Regex NodeName();

    /// <summary>The engine's queue placement of <c>queue:</c>: partition and priority rendered over the run's inputs.</summary>
    private static WorkflowQueue QueueOf(QueueSpec spec)
    {
        var partition = spec.Partition is { } p ? Template.Parse(p) : null;
        var priority = spec.Priority is { } text
            ? int.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var fixedPriority) ? (Func<JsonElement?, int>)(_ => fixedPriority) : RenderPriority(spec.Name, Template.Parse(text))
            : null;
        return new WorkflowQueue
        {
            Name = spec.Name,
            Partition = partition is null ? null : input => partition.Render(InputScope(input)).Trim(),
            Priority = priority,
            Limits = spec.Limits,
        };
    }

    private static Func<JsonElement?, int> RenderPriority(string queue, Template template) => input =>
    {
        var text = template.Render(InputScope(input)).Trim();
        return int.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var value)
            ? value
            : throw new Queues.QueueDefinitionException(queue, $"the priority rendered as '{text}', which is not a whole number; check the 'priority' template.");
    };

    /// <summary>What a queue's templates see when a run starts: its inputs.</summary>
    private static JsonElement InputScope(JsonElement? input) =>
        Serialization.RatchetJson.Parse("{\"inputs\":" + (input?.GetRawText() ?? "{}") + "}");
}
