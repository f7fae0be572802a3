using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Ratchet.Engine;

/// <summary>
/// The host's engine, opened once, asynchronously: by <see cref="RatchetWorkerService"/> when the host starts, or by
/// the first <see cref="GetEngineAsync"/>. <see cref="WorkflowEngine"/> and <see cref="Storage.IRatchetStore"/>
/// resolve from the container once it is open; code that runs before the host has started (another hosted service's
/// constructor, for example) takes this instead and awaits <see cref="GetEngineAsync"/>. Disposing it (with the
/// container) closes the engine and its store.
/// </summary>
public sealed class RatchetEngineProvider : IAsyncDisposable, IDisposable
{
    private readonly IServiceProvider _services;
    private readonly RatchetServiceBuilder _builder;
    private readonly SemaphoreSlim _opening = new(1, 1);
    private WorkflowEngine? _engine;
    private bool _disposed;

    internal RatchetEngineProvider(IServiceProvider services, RatchetServiceBuilder builder)
    {
        _services = services;
        _builder = builder;
    }

    /// <summary>The open engine.</summary>
    /// <exception cref="InvalidOperationException">No store was configured, or the engine is not open yet (the host has not started).</exception>
    /// <exception cref="ObjectDisposedException">The host's services were disposed.</exception>
    public WorkflowEngine Engine
    {
        get
        {
            ThrowIfNoStore();
            ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed), this);
            return Volatile.Read(ref _engine) ?? throw new InvalidOperationException(
                "The Ratchet engine is not open yet: it is opened when the host starts. Resolve WorkflowEngine after the host has " +
                "started, or take RatchetEngineProvider and await GetEngineAsync().");
        }
    }

    /// <summary>
    /// The engine, opened on the first call: the store is opened (with the host's <see cref="TimeProvider"/> and
    /// <see cref="ILoggerFactory"/>), the definitions and every registered <see cref="IWorkflowObserver"/> added.
    /// </summary>
    /// <exception cref="InvalidOperationException">No store was configured.</exception>
    /// <exception cref="OptionsValidationException">The <see cref="RatchetOptions"/> are invalid; the message lists every problem.</exception>
    public async Task<WorkflowEngine> GetEngineAsync(CancellationToken cancellationToken = default)
    {
        if (Volatile.Read(ref _engine) is { } open)
        {
            return open;
        }

        await _opening.WaitAsync(cancellationToken);
        try
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (_engine is null)
            {
                Volatile.Write(ref _engine, await OpenAsync(cancellationToken));
            }

            return _engine!;
        }
        finally
        {
            _opening.Release();
        }
    }

    /// <summary>Closes the engine (its runners, then its store) if it was opened.</summary>
    public async ValueTask DisposeAsync()
    {
        // Waits for an opening under way, so that the engine it opens is closed too.
        await _opening.WaitAsync();
        try
        {
            if (_disposed)
            {
                return;
            }

            Volatile.Write(ref _disposed, true);
            if (_engine is not null)
            {
                await _engine.DisposeAsync();
            }
        }
        finally
        {
            _opening.Release();
        }
    }

    /// <summary>
    /// For a container disposed synchronously: nothing to do if the engine was never opened; an open engine must be
    /// closed with <see cref="DisposeAsync"/> (its store's close is asynchronous), so that is said instead.
    /// </summary>
    /// <exception cref="InvalidOperationException">The engine is open.</exception>
    public void Dispose()
    {
        if (Volatile.Read(ref _engine) is not null && !Volatile.Read(ref _disposed))
        {
            throw new InvalidOperationException(
                "The Ratchet engine is open and closes asynchronously: dispose the host or its service provider with DisposeAsync.");
        }

        Volatile.Write(ref _disposed, true);
    }

    private Task<WorkflowEngine> OpenAsync(CancellationToken cancellationToken)
    {
        ThrowIfNoStore();
        var setup = new RatchetBuilder()
            .UseOptions(_services.GetRequiredService<IOptions<RatchetOptions>>().Value)
            .UseServices(_services)
            .UseClock(_services.GetRequiredService<TimeProvider>())
            .UseIdGenerator(_services.GetRequiredService<IWorkflowIdGenerator>())
            .UseStore(_builder.OpenStore!);
        if (_services.GetService<ILoggerFactory>() is { } loggers)
        {
            setup.UseLoggerFactory(loggers);
        }

        foreach (var definition in _builder.Definitions)
        {
            setup.AddWorkflow(definition);
        }

        foreach (var observer in _services.GetServices<IWorkflowObserver>())
        {
            setup.AddObserver(observer);
        }

        return setup.BuildAsync(cancellationToken);
    }

    private void ThrowIfNoStore()
    {
        if (_builder.OpenStore is null)
        {
            throw new InvalidOperationException(
                "AddRatchet needs a store: call UseSqlite (Ratchet.Sqlite) or another backend's Use… on the builder it returns.");
        }
    }
}
