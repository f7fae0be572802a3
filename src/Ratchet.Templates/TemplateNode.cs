using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Ratchet.Engine;

namespace Ratchet.Templates;

/// <summary>
/// A template step: resolves the step's implementation from the engine's services (in a scope of its own, so that
/// scoped implementations work), runs it, and records itself as the last completed step.
/// </summary>
internal abstract class TemplateNode : IWorkflowNode
{
    public async Task<NodeResult> ExecuteAsync(NodeContext context, CancellationToken cancellationToken)
    {
        NodeResult result;
        try
        {
            if (context.Services.GetService<IServiceScopeFactory>() is { } scopes)
            {
                await using var scope = scopes.CreateAsyncScope();
                result = await RunAsync(new StepRun(context, scope.ServiceProvider), cancellationToken);
            }
            else
            {
                result = await RunAsync(new StepRun(context, context.Services), cancellationToken);
            }
        }
        catch (OperationCanceledException ex) when (!cancellationToken.IsCancellationRequested)
        {
            // Not our cancellation: a client gave up (HttpClient reports its timeout this way). The engine never retries
            // a cancellation, so say what it is: a timeout, which the step's retry policy may retry.
            throw new TimeoutException($"Step '{context.Node}' was cancelled by something other than the workflow, typically a client's timeout: {ex.Message}", ex);
        }

        context.Set(TemplateArtifacts.LastStep, new CompletedStep(context.Node, result.Outcome));
        return result;
    }

    protected abstract Task<NodeResult> RunAsync(StepRun run, CancellationToken cancellationToken);
}

/// <summary>
/// A step that calls one method of its implementation <typeparamref name="TService"/>: it builds the request from the
/// run's input and artifacts, resolves the implementation, calls it and succeeds with its result (refused when null).
/// The steps stay types of their own, so that a definition's fingerprint names each step's implementation.
/// </summary>
internal abstract class ServiceStepNode<TService, TRequest, TResult>(
    Func<StepRun, TRequest> request,
    Func<TService, TRequest, StepContext, CancellationToken, Task<TResult>> call,
    string method) : TemplateNode
    where TService : class
    where TResult : class
{
    protected sealed override async Task<NodeResult> RunAsync(StepRun run, CancellationToken cancellationToken)
    {
        var built = request(run);
        var result = await call(run.Service<TService>(), built, run.Step, cancellationToken);
        return NodeResult.Success(run.Checked(result, $"{typeof(TService).Name}.{method}"));
    }
}

/// <summary>One run of a template step: its node context, its services, and typed access to the input and artifacts.</summary>
internal sealed class StepRun(NodeContext node, IServiceProvider services)
{
    public NodeContext Node { get; } = node;

    public StepContext Step { get; } = StepContext.FromNode(node);

    /// <summary>The step implementation <typeparamref name="T"/>; a clear error when none is registered.</summary>
    public T Service<T>() where T : class =>
        services.GetService<T>() ?? throw new StepImplementationMissingException(typeof(T), Node.WorkflowType, Node.Node);

    /// <summary>Every registered <typeparamref name="T"/>.</summary>
    public IEnumerable<T> Services<T>() where T : class => services.GetServices<T>();

    /// <summary>The workflow's input as <typeparamref name="T"/>, refused (without retries) when it is missing or invalid.</summary>
    public T Input<T>(Func<T, string?> problem, string example) where T : class
    {
        T? input;
        try
        {
            input = Node.GetInput<T>();
        }
        catch (JsonException ex)
        {
            throw new StepFailedException(
                $"Workflow '{Node.WorkflowId}' ({Node.WorkflowType}) has an input that is not a {typeof(T).Name}: {ex.Message} Start it with an input such as {example}.", ex);
        }

        if (input is null)
        {
            throw new StepFailedException($"Workflow '{Node.WorkflowId}' ({Node.WorkflowType}) was started without an input; start it with a {typeof(T).Name} such as {example}.");
        }

        return problem(input) is { } message
            ? throw new StepFailedException($"Workflow '{Node.WorkflowId}' ({Node.WorkflowType}) has an invalid input: {message} Start it with an input such as {example}.")
            : input;
    }

    /// <summary>The output of the earlier step <paramref name="step"/>; refused when that step has not run.</summary>
    public T Artifact<T>(string step) where T : class =>
        Optional<T>(step) ?? throw new StepFailedException(
            $"Step '{Node.Node}' of workflow '{Node.WorkflowId}' needs the output of step '{step}', which has none; run the workflow from '{step}' (RetryAsync with that step).");

    /// <summary>The output of the step <paramref name="step"/>, or null when it has not run.</summary>
    public T? Optional<T>(string step) where T : class => Node.TryGet<T>(step, out var value) ? value : null;

    /// <summary>An implementation's result, refused when it is null.</summary>
    public T Checked<T>(T? output, string call) where T : class =>
        output ?? throw new StepFailedException($"{call} returned null in step '{Node.Node}' of workflow '{Node.WorkflowId}'; it must return a {typeof(T).Name}.");
}
