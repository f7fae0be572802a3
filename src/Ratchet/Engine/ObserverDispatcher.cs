using System.Threading.Channels;
using Microsoft.Extensions.Logging;

namespace Ratchet.Engine;

/// <summary>
/// Delivers events to observers on one background loop, in order, so that a slow observer (say, one posting GitHub
/// comments) never holds up a workflow, and one that throws is logged and skipped.
/// </summary>
internal sealed class ObserverDispatcher : IAsyncDisposable
{
    private readonly IReadOnlyList<IWorkflowObserver> _observers;
    private readonly ILogger _logger;
    private readonly Channel<WorkflowEvent>? _queue;
    private readonly Task _loop = Task.CompletedTask;

    public ObserverDispatcher(IReadOnlyList<IWorkflowObserver> observers, ILogger logger)
    {
        _observers = observers;
        _logger = logger;
        if (observers.Count > 0)
        {
            _queue = Channel.CreateUnbounded<WorkflowEvent>(new UnboundedChannelOptions { SingleReader = true });
            _loop = Task.Run(RunAsync);
        }
    }

    /// <summary>Whether anyone listens; callers skip building events when nobody does.</summary>
    public bool HasObservers => _queue is not null;

    public void Publish(WorkflowEvent workflowEvent) => _queue?.Writer.TryWrite(workflowEvent);

    public void Publish(IReadOnlyList<WorkflowEvent> events)
    {
        if (_queue is null)
        {
            return;
        }

        foreach (var workflowEvent in events)
        {
            _queue.Writer.TryWrite(workflowEvent);
        }
    }

    /// <summary>Stops taking events and waits until those already queued were delivered.</summary>
    public async ValueTask DisposeAsync()
    {
        _queue?.Writer.TryComplete();
        await _loop.ConfigureAwait(false);
    }

    private async Task RunAsync()
    {
        await foreach (var workflowEvent in _queue!.Reader.ReadAllAsync().ConfigureAwait(false))
        {
            foreach (var observer in _observers)
            {
                try
                {
                    await observer.OnEventAsync(workflowEvent, CancellationToken.None).ConfigureAwait(false);
                }
                catch (Exception ex)
                {
                    Log.ObserverFailed(_logger, observer.GetType().Name, workflowEvent.Kind, workflowEvent.WorkflowId, ex);
                }
            }
        }
    }
}
