using Microsoft.Extensions.Hosting;

namespace Ratchet.Engine;

/// <summary>
/// The hosted worker: when the host starts, opens the engine (<see cref="RatchetEngineProvider.GetEngineAsync"/>) and
/// starts a <see cref="WorkflowRunner"/> on it; when the host stops, stops the runner gracefully (running nodes may
/// finish within the host's shutdown timeout, the rest are released for another worker). The engine and its store
/// are closed after that, with the host's services.
/// </summary>
public sealed class RatchetWorkerService(RatchetEngineProvider engines) : IHostedService, IAsyncDisposable
{
    private WorkflowRunner? _runner;

    /// <summary>The running runner, once started.</summary>
    public WorkflowRunner? Runner => _runner;

    /// <inheritdoc />
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var engine = await engines.GetEngineAsync(cancellationToken);
        _runner = engine.CreateRunner();
        await _runner.StartAsync(cancellationToken);
    }

    /// <inheritdoc />
    public async Task StopAsync(CancellationToken cancellationToken)
    {
        if (_runner is not null)
        {
            await _runner.StopAsync(cancellationToken);
        }
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        if (_runner is not null)
        {
            await _runner.DisposeAsync();
        }
    }
}
