using System.Net;
using System.Text.Json;
using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Ratchet.Engine;
using Ratchet.Storage;

namespace Ratchet.GitHub;

/// <summary>
/// Keeps one progress comment on the GitHub issue or pull request a workflow serves (see <see cref="GitHubTarget.From"/>):
/// created at the workflow's first event, edited as nodes start and finish (a checklist with attempts and durations), and
/// closed with a summary when the workflow ends. Workflows not bound to an issue or pull request are ignored.
/// </summary>
/// <remarks>
/// Events only mark a workflow as changed; one background loop renders each changed workflow from the store and sends
/// the edit, so a burst of events costs one request (the latest state wins) and a slow or unreachable GitHub never
/// delays the engine. The comment's id is saved in the store (<see cref="StateNamespace"/>, keyed by workflow id), so
/// a resumed workflow, in this process or another, edits the same comment. Errors are logged, never thrown: the first
/// trouble since GitHub last answered is a warning, what follows it until GitHub answers again is information, so a
/// GitHub that is down costs a log one warning rather than one per attempt.
/// Dispose it after the engine, so the final summary is sent before the process exits.
/// </remarks>
public sealed class GitHubProgressObserver : IWorkflowObserver, IAsyncDisposable
{
    /// <summary>The key-value namespace holding each workflow's comment ids, under the workflow's id.</summary>
    public const string StateNamespace = "ratchet.github";

    private readonly IRatchetStore _store;
    private readonly GitHubProgressOptions _options;
    private readonly GitHubRestClient _client;
    private readonly HttpClient? _ownedHttp;
    private readonly ILogger _logger;
    private readonly GitHubTrouble _trouble = new();
    private readonly Lock _gate = new();
    private readonly Dictionary<string, Tracked> _workflows = new(StringComparer.Ordinal);
    private readonly Channel<Tracked> _changed = Channel.CreateUnbounded<Tracked>(new UnboundedChannelOptions { SingleReader = true });
    private readonly CancellationTokenSource _stopping = new();
    private readonly Task _loop;

    /// <param name="store">The store the engine uses: read for the workflow and its audit trail, written for the comment id.</param>
    /// <param name="options">Token, API root and retry settings; validated here.</param>
    /// <param name="httpClient">The client to send with (not disposed); by default one owned by the observer.</param>
    /// <param name="loggerFactory">Where to log; by default nowhere.</param>
    /// <exception cref="ArgumentException">The options are invalid.</exception>
    public GitHubProgressObserver(IRatchetStore store, GitHubProgressOptions options, HttpClient? httpClient = null, ILoggerFactory? loggerFactory = null)
    {
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        _store = store;
        _options = options;
        _logger = (loggerFactory ?? NullLoggerFactory.Instance).CreateLogger<GitHubProgressObserver>();
        if (httpClient is null)
        {
            _ownedHttp = new HttpClient { Timeout = TimeSpan.FromSeconds(30) };
            httpClient = _ownedHttp;
        }

        _client = new GitHubRestClient(httpClient, options, _logger, _trouble);
        _loop = Task.Run(RunAsync);
    }

    /// <inheritdoc/>
    public ValueTask OnEventAsync(WorkflowEvent workflowEvent, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(workflowEvent);
        if (workflowEvent.WorkflowId.Length == 0)
        {
            return ValueTask.CompletedTask;
        }

        lock (_gate)
        {
            if (!_workflows.TryGetValue(workflowEvent.WorkflowId, out var tracked))
            {
                tracked = new Tracked(workflowEvent.WorkflowId);
                _workflows.Add(tracked.Id, tracked);
            }

            if (!tracked.Ignored && !tracked.Queued)
            {
                tracked.Queued = true;
                _changed.Writer.TryWrite(tracked);
            }
        }

        return ValueTask.CompletedTask;
    }

    /// <summary>Sends what is still pending (waiting at most <see cref="GitHubProgressOptions.DrainTimeout"/>), then stops.</summary>
    public async ValueTask DisposeAsync()
    {
        _changed.Writer.TryComplete();
        try
        {
            await _loop.WaitAsync(_options.DrainTimeout, _options.TimeProvider).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            Log.Undrained(_logger, _trouble.Level(), Unsent());
            await _stopping.CancelAsync().ConfigureAwait(false);
            await _loop.ConfigureAwait(false);
        }

        _stopping.Dispose();
        _ownedHttp?.Dispose();
    }

    private async Task RunAsync()
    {
        await foreach (var tracked in _changed.Reader.ReadAllAsync().ConfigureAwait(false))
        {
            lock (_gate)
            {
                // Events from here on queue it again: they may not be in what this pass reads.
                tracked.Queued = false;
                tracked.Sending = true;
            }

            try
            {
                await SyncAsync(tracked, _stopping.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (_stopping.IsCancellationRequested)
            {
                return;
            }
#pragma warning disable CA1031 // An observer runs beside workflows: whatever goes wrong with a comment is logged, never raised.
            catch (Exception ex)
#pragma warning restore CA1031
            {
                Log.UpdateFailed(_logger, _trouble.Level(), tracked.Id, ex);
            }
            finally
            {
                lock (_gate)
                {
                    tracked.Sending = false;
                }
            }
        }
    }

    /// <summary>How many workflows have progress not yet sent: queued, or being sent now.</summary>
    private int Unsent()
    {
        lock (_gate)
        {
            // Counted here rather than from the channel: its single-reader reader cannot count what it holds.
            return _workflows.Values.Count(t => t.Queued || t.Sending);
        }
    }

    private async Task SyncAsync(Tracked tracked, CancellationToken cancellationToken)
    {
        var workflow = await _store.GetWorkflowAsync(tracked.Id, cancellationToken).ConfigureAwait(false);
        tracked.Target ??= workflow is null ? null : GitHubTarget.From(workflow);
        if (workflow is null || tracked.Target is not { } target)
        {
            Forget(tracked, ignore: true);
            return;
        }

        var events = await _store.GetEventsAsync(tracked.Id, cancellationToken: cancellationToken).ConfigureAwait(false);
        var body = ProgressComment.Render(workflow, events);
        tracked.State ??= await LoadStateAsync(tracked.Id, cancellationToken).ConfigureAwait(false);
        if (tracked.State is { } state && body != tracked.LastBody)
        {
            var status = await _client.EditCommentAsync(target, state.CommentId, body, cancellationToken).ConfigureAwait(false);
            if (status == HttpStatusCode.NotFound)
            {
                // Someone deleted it: progress goes on in a new one rather than nowhere.
                Log.CommentGone(_logger, _trouble.Level(), state.CommentId, tracked.Id);
                tracked.State = null;
            }
            else if (status is { } s && (int)s is >= 200 and < 300)
            {
                tracked.LastBody = body;
            }
        }

        if (tracked.State is null)
        {
            if (await _client.CreateCommentAsync(target, body, cancellationToken).ConfigureAwait(false) is not { } commentId)
            {
                return;
            }

            Log.CommentCreated(_logger, commentId, target, tracked.Id);
            tracked.LastBody = body;
            await SaveStateAsync(tracked, new CommentState(commentId, null), cancellationToken).ConfigureAwait(false);
        }

        var saved = tracked.State!;
        if (workflow.IsTerminal && _options.PostSummaryComment && saved.SummaryId is null &&
            await _client.CreateCommentAsync(target, ProgressComment.SummaryComment(workflow, events), cancellationToken).ConfigureAwait(false) is { } summaryId)
        {
            await SaveStateAsync(tracked, saved with { SummaryId = summaryId }, cancellationToken).ConfigureAwait(false);
        }
        else if (!workflow.IsTerminal && saved.SummaryId is not null)
        {
            // Retried after it ended: its next end gets a summary of its own.
            await SaveStateAsync(tracked, saved with { SummaryId = null }, cancellationToken).ConfigureAwait(false);
        }

        if (workflow.IsTerminal && (tracked.LastBody == body))
        {
            Forget(tracked, ignore: false);
        }
    }

    /// <summary>Drops what this process remembers of a workflow (unless new events came in meanwhile).</summary>
    private void Forget(Tracked tracked, bool ignore)
    {
        lock (_gate)
        {
            if (ignore)
            {
                // Inputs never change, so neither does whether it is bound to an issue: skip its later events cheaply.
                tracked.Ignored = true;
            }
            else if (!tracked.Queued)
            {
                _workflows.Remove(tracked.Id);
            }
        }
    }

    private async Task<CommentState?> LoadStateAsync(string workflowId, CancellationToken cancellationToken)
    {
        var entry = await _store.GetValueAsync(StateNamespace, workflowId, cancellationToken).ConfigureAwait(false);
        return entry?.Value.Deserialize(GitHubJsonContext.Default.CommentState);
    }

    private async Task SaveStateAsync(Tracked tracked, CommentState state, CancellationToken cancellationToken)
    {
        var value = JsonSerializer.SerializeToElement(state, GitHubJsonContext.Default.CommentState);
        await _store.CommitAsync(new ChangeSet().SaveValue(StateNamespace, tracked.Id, value), cancellationToken).ConfigureAwait(false);
        tracked.State = state;
    }

    /// <summary>What this process knows of one workflow's comment. Queued, Ignored and Sending under the gate; the rest only on the loop.</summary>
    private sealed class Tracked(string id)
    {
        public string Id { get; } = id;

        public bool Queued { get; set; }

        public bool Ignored { get; set; }

        public bool Sending { get; set; }

        public GitHubTarget? Target { get; set; }

        public CommentState? State { get; set; }

        public string? LastBody { get; set; }
    }
}
