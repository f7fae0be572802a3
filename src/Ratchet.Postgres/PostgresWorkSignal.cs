using Microsoft.Extensions.Logging;
using Npgsql;

namespace Ratchet.Postgres;

/// <summary>
/// LISTEN/NOTIFY for one store: sends coalesced work notifications after commits, and keeps one dedicated LISTEN
/// connection (opened on the first subscription, re-opened with back-off when it drops) that calls the subscribers.
/// </summary>
/// <remarks>
/// Notifications are sent just after the commit that made work due, not by <c>pg_notify</c> inside it: PostgreSQL
/// takes a database-wide lock when a notifying transaction commits and holds it across the WAL flush, so notifying
/// inside commits would serialise every creating commit and defeat group commit. Sent afterwards, one notification
/// in flight at a time covers every commit that asked for one meanwhile, and it is still only sent for work that is
/// committed. A crash between the commit and the notification loses the hint; workers still poll.
/// </remarks>
internal sealed class PostgresWorkSignal : IAsyncDisposable
{
    private readonly PostgresStoreOptions _options;
    private readonly NpgsqlDataSource _dataSource;
    private readonly string _channel;
    private readonly string _description;
    private readonly ILogger _logger;
    private readonly CancellationTokenSource _stopping = new();
    private readonly Lock _gate = new();
    private Action[] _subscribers = [];
    private NpgsqlDataSource? _listenSource;
    private Task? _listening;
    private Task? _notifying;
    private int _notifyRequested;
    private int _notifyRunning;

    public PostgresWorkSignal(PostgresStoreOptions options, NpgsqlDataSource dataSource, string description, ILogger logger)
    {
        _options = options;
        _dataSource = dataSource;
        _description = description;
        _logger = logger;

        // Channels are per database; the schema keeps stores that share a database apart. Names are cut to
        // PostgreSQL's 63 bytes (the schema is ASCII): a collision would only cause spurious wake-ups.
        var channel = "ratchet_work_" + options.Schema;
        _channel = channel.Length > 63 ? channel[..63] : channel;
    }

    /// <summary>Asks for a notification to be sent soon; requests made while one is being sent are covered by the next.</summary>
    public void RequestNotify()
    {
        Volatile.Write(ref _notifyRequested, 1);
        if (Interlocked.CompareExchange(ref _notifyRunning, 1, 0) == 0)
        {
            _notifying = Task.Run(NotifyLoopAsync);
        }
    }

    public IDisposable Subscribe(Action onWorkDue)
    {
        ArgumentNullException.ThrowIfNull(onWorkDue);
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_stopping.IsCancellationRequested, this);
            _subscribers = [.. _subscribers, onWorkDue];
            if (_listening is null)
            {
                _listenSource = PostgresConnections.CreateDataSource(_options, pooling: false, listener: true);
                _listening = Task.Run(ListenLoopAsync);
            }
        }

        return new Subscription(this, onWorkDue);
    }

    public async ValueTask DisposeAsync()
    {
        Task? listening;
        lock (_gate)
        {
            if (_stopping.IsCancellationRequested)
            {
                return;
            }

            _stopping.Cancel();
            listening = _listening;
            _subscribers = [];
        }

        if (listening is not null)
        {
            await listening.ConfigureAwait(false);
        }

        if (_notifying is { } notifying)
        {
            await notifying.ConfigureAwait(false);
        }

        if (_listenSource is not null)
        {
            await _listenSource.DisposeAsync();
        }

        _stopping.Dispose();
    }

    private async Task NotifyLoopAsync()
    {
        while (true)
        {
            while (Interlocked.Exchange(ref _notifyRequested, 0) == 1 && !_stopping.IsCancellationRequested)
            {
                try
                {
                    await using var command = _dataSource.CreateCommand("SELECT pg_notify($1, '')");
                    command.Parameters.Add(PostgresRows.Text(_channel));
                    await command.ExecuteNonQueryAsync(_stopping.Token);
                }
                catch (OperationCanceledException) when (_stopping.IsCancellationRequested)
                {
                    return;
                }
                catch (Exception ex) when (ex is NpgsqlException or TimeoutException or InvalidOperationException or ObjectDisposedException)
                {
                    // A lost hint only delays other workers until their next poll; the commit itself succeeded.
                    Log.NotifyFailed(_logger, _description, ex);
                }
            }

            Volatile.Write(ref _notifyRunning, 0);

            // A request that arrived after the last exchange but before the flag cleared must not be stranded.
            if (Volatile.Read(ref _notifyRequested) == 0 || Interlocked.CompareExchange(ref _notifyRunning, 1, 0) != 0)
            {
                return;
            }
        }
    }

    private async Task ListenLoopAsync()
    {
        var token = _stopping.Token;
        var delay = TimeSpan.FromMilliseconds(100);
        var connectedBefore = false;
        while (!token.IsCancellationRequested)
        {
            try
            {
                await using var connection = await _listenSource!.OpenConnectionAsync(token);
                connection.Notification += (_, _) => Fire();
                await using (var listen = new NpgsqlCommand($"LISTEN {PostgresMigrations.Quote(_channel)}", connection))
                {
                    await listen.ExecuteNonQueryAsync(token);
                }

                Log.Listening(_logger, _description);
                if (connectedBefore)
                {
                    // Work may have become due while we were not listening.
                    Fire();
                }

                connectedBefore = true;
                delay = TimeSpan.FromMilliseconds(100);
                while (true)
                {
                    await connection.WaitAsync(token);
                }
            }
            catch (OperationCanceledException) when (token.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex) when (ex is NpgsqlException or TimeoutException or IOException or InvalidOperationException)
            {
                Log.ListenerFailed(_logger, _description, delay, ex);
                try
                {
                    // Wall-clock pacing of reconnects, not store time: a test's manual clock must not stall them.
                    await Task.Delay(delay, token);
                }
                catch (OperationCanceledException)
                {
                    return;
                }

                delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, _options.MaxReconnectDelay.Ticks));
            }
        }
    }

    private void Fire()
    {
        foreach (var subscriber in Volatile.Read(ref _subscribers))
        {
            try
            {
                subscriber();
            }
            catch (Exception ex)
            {
                // One subscriber's bug must not stop the others, nor the listener, from hearing of work.
                Log.SubscriberFailed(_logger, _description, ex);
            }
        }
    }

    private void Unsubscribe(Action onWorkDue)
    {
        lock (_gate)
        {
            var index = Array.IndexOf(_subscribers, onWorkDue);
            if (index >= 0)
            {
                _subscribers = [.. _subscribers[..index], .. _subscribers[(index + 1)..]];
            }
        }
    }

    private sealed class Subscription(PostgresWorkSignal owner, Action onWorkDue) : IDisposable
    {
        private int _disposed;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _disposed, 1) == 0)
            {
                owner.Unsubscribe(onWorkDue);
            }
        }
    }
}
