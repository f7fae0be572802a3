using Ratchet.Engine.Tests;
using Ratchet.Tests.Fakes;

namespace Ratchet.GitHub.Tests;

/// <summary>
/// Issue 6, point 3: one progress comment per workflow bound to an issue or pull request, edited as nodes finish, with a
/// summary at the end; retries on 5xx and rate limits; never in the way of the workflow.
/// </summary>
public sealed class GitHubProgressObserverTests : IAsyncDisposable
{
    private const string Token = "test-token-not-a-secret";
    private readonly Scratch _scratch = new();
    private readonly FakeGitHub _github = new();

    private readonly List<IRatchetStore> _stores = [];

    public async ValueTask DisposeAsync()
    {
        foreach (var store in _stores)
        {
            await store.DisposeAsync();
        }

        await _github.DisposeAsync();
        _scratch.Dispose();
    }

    [Fact]
    public async Task Run_BoundWorkflow_CreatesCommentOnceEditsItPerNodeAndPostsSummary()
    {
        var type = Type();
        var (id, workflow) = await RunAsync(type, new { repo = "acme/widgets", issue = 42 });

        Assert.Equal(WorkflowStatus.Completed, workflow.Status);
        var requests = _github.Requests;
        Assert.All(requests, r => Assert.Equal($"Bearer {Token}", r.Authorization));
        var creates = requests.Where(r => r.Method == "POST").ToArray();
        Assert.Equal(2, creates.Length);
        Assert.All(creates, r => Assert.Equal("/repos/acme/widgets/issues/42/comments", r.Path));
        Assert.StartsWith($"<!-- ratchet:{id} -->", creates[0].Body, StringComparison.Ordinal);
        Assert.Contains("**Completed**", creates[1].Body, StringComparison.Ordinal);

        var progress = Assert.Single(_github.Comments, c => c.Value.Contains("- [", StringComparison.Ordinal));
        var edits = requests.Where(r => r.Method == "PATCH").ToArray();
        Assert.All(edits, r => Assert.Equal($"/repos/acme/widgets/issues/comments/{progress.Key}", r.Path));
        // One edit at least per node: each node is seen done while the next one runs.
        var bodies = creates.Take(1).Concat(edits).Select(r => r.Body!).ToArray();
        Assert.Contains(bodies, b => b.Contains("✅ **Plan**", StringComparison.Ordinal) && b.Contains("⏳ **Build**", StringComparison.Ordinal));
        Assert.Contains(bodies, b => b.Contains("✅ **Build**", StringComparison.Ordinal) && b.Contains("⏳ **Test**", StringComparison.Ordinal));
        Assert.True(edits.Length >= 3, $"{edits.Length} edits");
        Assert.Contains("- [x] ✅ **Test** — attempt 1", progress.Value, StringComparison.Ordinal);
        Assert.Contains("**Completed** in ", progress.Value, StringComparison.Ordinal);
        Assert.Equal(edits[^1].Body, progress.Value);

        await using var store = await OpenStoreAsync();
        var saved = await store.GetValueAsync(GitHubProgressObserver.StateNamespace, id);
        Assert.Equal(progress.Key, saved!.Value.GetProperty("commentId").GetInt64());
    }

    [Fact]
    public async Task Run_PullRequestAnswering502First_RetriedThenSucceeds()
    {
        _github.Fail(502);
        _github.Fail(502);
        var (_, workflow) = await RunAsync(Type(), new { repo = "acme/widgets", pr = "7" });

        Assert.Equal(WorkflowStatus.Completed, workflow.Status);
        var requests = _github.Requests;
        Assert.Equal([502, 502, 201], requests.Take(3).Select(r => r.Status));
        Assert.All(requests.Take(3), r => Assert.Equal(("POST", "/repos/acme/widgets/issues/7/comments"), (r.Method, r.Path)));
        Assert.Single(_github.Comments, c => c.Value.Contains("- [", StringComparison.Ordinal) && c.Value.Contains("**Completed**", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Edit_RateLimited_WaitsForRetryAfterAndResetThenSucceeds()
    {
        var type = Type();
        var observer = await ObserverAsync();
        await using (var engine = await TestEngines.StartedAsync(TestEngines.Builder(_scratch.Database).AddWorkflow(Definition(type)).AddObserver(observer)))
        {
            using var timeout = Within.Seconds(30);
            var id = (await engine.StartAsync(type, new { repo = "acme/widgets", issue = 1 }, cancellationToken: timeout.Token)).Id;
            await WaitForAsync(() => _github.Requests.Any(r => r.Status == 201), timeout.Token);
            _github.Fail(429, new Dictionary<string, string> { ["Retry-After"] = "0" });
            _github.Fail(403, new Dictionary<string, string> { ["x-ratelimit-remaining"] = "0", ["x-ratelimit-reset"] = "0" });
            await engine.WaitForCompletionAsync(id, timeout.Token);
        }

        await observer.DisposeAsync();

        var statuses = _github.Requests.Select(r => r.Status).ToArray();
        var limited = Array.IndexOf(statuses, 429);
        Assert.True(limited > 0, string.Join(",", statuses));
        Assert.Equal([429, 403, 200], statuses.Skip(limited).Take(3));
        Assert.Contains(_github.Comments.Values, c => c.Contains("**Completed**", StringComparison.Ordinal) && c.Contains("- [", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Create_RefusedWith422_DroppedWithoutRetry()
    {
        _github.Fail(422);
        var (_, workflow) = await RunAsync(Type(), new { repo = "acme/widgets", issue = 3 });

        Assert.Equal(WorkflowStatus.Completed, workflow.Status);
        var requests = _github.Requests;
        Assert.Equal(422, requests[0].Status);
        // Not retried: the next change tried again, with a new request, and created the comment.
        Assert.Equal(201, requests[1].Status);
        Assert.Single(_github.Comments, c => c.Value.Contains("- [", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Run_GitHubDown_WorkflowStillCompletes()
    {
        var observer = await ObserverAsync(new Uri($"http://127.0.0.1:{FakeGitHub.FreePort()}/"));
        var type = Type();
        await using (var engine = await TestEngines.StartedAsync(TestEngines.Builder(_scratch.Database).AddWorkflow(Definition(type)).AddObserver(observer)))
        {
            using var timeout = Within.Seconds(30);
            var id = (await engine.StartAsync(type, new { repo = "acme/widgets", issue = 5 }, cancellationToken: timeout.Token)).Id;
            Assert.Equal(WorkflowStatus.Completed, (await engine.WaitForCompletionAsync(id, timeout.Token)).Status);
            await using var store = await OpenStoreAsync();
            Assert.Null(await store.GetValueAsync(GitHubProgressObserver.StateNamespace, id, timeout.Token));
        }

        var disposing = observer.DisposeAsync().AsTask();
        Assert.Same(disposing, await Task.WhenAny(disposing, Task.Delay(TimeSpan.FromSeconds(20))));
    }

    [Fact]
    public async Task Dispose_GitHubDownPastTheDrainTimeout_StopsQuietlyWithOneWarning()
    {
        // As the CLI runs it: retries that outlast the drain timeout, so disposing gives up on what is still unsent.
        var logs = new CapturingLoggerFactory();
        var observer = await ObserverAsync(new Uri($"http://127.0.0.1:{FakeGitHub.FreePort()}/"), logs, o =>
        {
            o.MaxAttempts = 5;
            o.RetryDelay = TimeSpan.FromSeconds(1);
            o.MaxRetryDelay = TimeSpan.FromSeconds(1);
            o.DrainTimeout = TimeSpan.FromMilliseconds(300);
        });
        var type = Type();
        await using (var engine = await TestEngines.StartedAsync(TestEngines.Builder(_scratch.Database).AddWorkflow(Definition(type)).AddObserver(observer)))
        {
            using var timeout = Within.Seconds(30);
            var id = (await engine.StartAsync(type, new { repo = "acme/widgets", issue = 6 }, cancellationToken: timeout.Token)).Id;
            Assert.Equal(WorkflowStatus.Completed, (await engine.WaitForCompletionAsync(id, timeout.Token)).Status);
        }

        var disposing = observer.DisposeAsync().AsTask();
        Assert.Same(disposing, await Task.WhenAny(disposing, Task.Delay(TimeSpan.FromSeconds(10))));
        Assert.Null(await Record.ExceptionAsync(() => disposing));

        var entries = logs.Entries.Where(e => e.Category == typeof(GitHubProgressObserver).FullName).ToArray();
        var warning = Assert.Single(entries, e => e.Level >= Microsoft.Extensions.Logging.LogLevel.Warning);
        Assert.Equal(3002, warning.EventId.Id);
        Assert.Contains(entries, e => e.EventId.Id == 3007 && e.Level == Microsoft.Extensions.Logging.LogLevel.Information);
    }

    [Fact]
    public async Task Run_GitHubRefusesThenAnswers_WarnsOncePerSpellOfTrouble()
    {
        var logs = new CapturingLoggerFactory();
        var observer = await ObserverAsync(logs: logs);
        var type = Type();
        await using (var engine = await TestEngines.StartedAsync(TestEngines.Builder(_scratch.Database).AddWorkflow(Definition(type)).AddObserver(observer)))
        {
            using var timeout = Within.Seconds(30);
            _github.Fail(422);
            _github.Fail(500);
            var first = (await engine.StartAsync(type, new { repo = "acme/widgets", issue = 8 }, cancellationToken: timeout.Token)).Id;
            await engine.WaitForCompletionAsync(first, timeout.Token);

            // The summary is the last request of a workflow: after it, the next failure falls on the second one.
            await WaitForAsync(() => _github.Comments.Values.Any(c => c.Contains("**Completed**", StringComparison.Ordinal) && !c.Contains("- [", StringComparison.Ordinal)), timeout.Token);
            _github.Fail(502);
            var second = (await engine.StartAsync(type, new { repo = "acme/widgets", issue = 9 }, cancellationToken: timeout.Token)).Id;
            await engine.WaitForCompletionAsync(second, timeout.Token);
        }

        await observer.DisposeAsync();

        // 422, then 500 in the same spell of trouble: one warning. The 502 after GitHub answered again is news.
        var warnings = logs.Entries.Where(e => e.Level >= Microsoft.Extensions.Logging.LogLevel.Warning).Select(e => e.EventId.Id).ToArray();
        Assert.Equal([3004, 3001], warnings);
        Assert.Contains(logs.Entries, e => e.EventId.Id == 3001 && e.Level == Microsoft.Extensions.Logging.LogLevel.Information);
        Assert.Equal(2, _github.Comments.Values.Count(c => c.Contains("- [x] ✅ **Test**", StringComparison.Ordinal)));
    }

    [Fact]
    public async Task Run_WorkflowWithoutIssue_SendsNothing()
    {
        var (_, workflow) = await RunAsync(Type(), new { repo = "acme/widgets" });

        Assert.Equal(WorkflowStatus.Completed, workflow.Status);
        Assert.Empty(_github.Requests);
    }

    [Fact]
    public async Task Resume_AfterRestart_EditsTheSameComment()
    {
        var type = Type();
        var blocked = 0;
        var definition = new WorkflowBuilder(type)
            .Node("Plan", Nodes.Ok()).Then("Build")
            .Node("Build", async (_, cancellationToken) =>
            {
                // The first process stops while Build runs (an interruption: the same attempt runs again); the second finishes it.
                if (Interlocked.Increment(ref blocked) == 1)
                {
                    await Task.Delay(Timeout.Infinite, cancellationToken);
                }

                return NodeResult.Success();
            })
            .Build();
        string id;
        var first = await ObserverAsync();
        using var timeout = Within.Seconds(30);
        await using (var engine = await TestEngines.StartedAsync(TestEngines.Builder(_scratch.Database).AddWorkflow(definition).AddObserver(first)))
        {
            id = (await engine.StartAsync(type, new { repo = "acme/widgets", issue = 9 }, cancellationToken: timeout.Token)).Id;
            await WaitForAsync(() => _github.Comments.Values.Any(c => c.Contains("⏳ **Build**", StringComparison.Ordinal)), timeout.Token);
        }

        await first.DisposeAsync();
        var second = await ObserverAsync();
        await using (var engine = await TestEngines.Builder(_scratch.Database).AddWorkflow(definition).AddObserver(second).BuildAsync(timeout.Token))
        {
            await engine.CreateRunner(id).StartAsync(timeout.Token);
            Assert.Equal(WorkflowStatus.Completed, (await engine.WaitForCompletionAsync(id, timeout.Token)).Status);
        }

        await second.DisposeAsync();
        var progress = Assert.Single(_github.Comments, c => c.Value.Contains("- [", StringComparison.Ordinal));
        Assert.Equal(2, _github.Requests.Count(r => r.Method == "POST"));
        Assert.Contains("- [x] ✅ **Build** — attempt 1", progress.Value, StringComparison.Ordinal);
        Assert.Contains("**Completed**", progress.Value, StringComparison.Ordinal);
    }

    [Fact]
    public void Options_Invalid_ListsEveryProblem()
    {
        var options = new GitHubProgressOptions { Token = "", BaseUrl = new Uri("ftp://example.com/"), MaxAttempts = 0 };

        var error = Assert.Throws<ArgumentException>(options.Validate);

        Assert.Contains("Token", error.Message, StringComparison.Ordinal);
        Assert.Contains("ftp://example.com/", error.Message, StringComparison.Ordinal);
        Assert.Contains("MaxAttempts is 0", error.Message, StringComparison.Ordinal);
    }

    private async Task<(string Id, WorkflowRecord Workflow)> RunAsync(string type, object input)
    {
        var observer = await ObserverAsync();
        string id;
        WorkflowRecord workflow;
        await using (var engine = await TestEngines.StartedAsync(TestEngines.Builder(_scratch.Database).AddWorkflow(Definition(type)).AddObserver(observer)))
        {
            using var timeout = Within.Seconds(30);
            id = (await engine.StartAsync(type, input, cancellationToken: timeout.Token)).Id;
            workflow = await engine.WaitForCompletionAsync(id, timeout.Token);
        }

        // After the engine, as the CLI does: every event was delivered, and disposing sends what is pending.
        await observer.DisposeAsync();
        return (id, workflow);
    }

    /// <summary>An observer with its own connection to the test's store, as another process would have.</summary>
    private async Task<GitHubProgressObserver> ObserverAsync(Uri? baseUrl = null, CapturingLoggerFactory? logs = null, Action<GitHubProgressOptions>? configure = null)
    {
        var store = await OpenStoreAsync();
        _stores.Add(store);
        var options = new GitHubProgressOptions
        {
            Token = Token,
            BaseUrl = baseUrl ?? _github.BaseUrl,
            MaxAttempts = 4,
            RetryDelay = TimeSpan.FromMilliseconds(20),
            MaxRetryDelay = TimeSpan.FromMilliseconds(200),
            DrainTimeout = TimeSpan.FromSeconds(10),
        };
        configure?.Invoke(options);
        return new GitHubProgressObserver(store, options, loggerFactory: logs);
    }

    private async Task<IRatchetStore> OpenStoreAsync() =>
        await Sqlite.SqliteRatchetStore.OpenAsync(new Sqlite.SqliteStoreOptions { Path = _scratch.Database });

    private static async Task WaitForAsync(Func<bool> condition, CancellationToken cancellationToken)
    {
        while (!condition())
        {
            await Task.Delay(20, cancellationToken);
        }
    }

    private static string Type() => $"github-{Guid.NewGuid():N}";

    private static WorkflowDefinition Definition(string type)
    {
        static Func<NodeContext, CancellationToken, Task<NodeResult>> Slow() => async (_, cancellationToken) =>
        {
            // Long enough for each node's edit to go out before the next node ends.
            await Task.Delay(TimeSpan.FromMilliseconds(200), cancellationToken);
            return NodeResult.Success();
        };

        return new WorkflowBuilder(type)
            .Node("Plan", Slow()).Then("Build")
            .Node("Build", Slow()).Then("Test")
            .Node("Test", Slow())
            .Build();
    }
}
