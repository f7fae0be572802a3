using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Ratchet.Engine;

namespace Ratchet.Yaml.Tests;

/// <summary>The <c>http:</c> node run through the engine against a real Kestrel server on 127.0.0.1.</summary>
public sealed class HttpNodeTests : IDisposable
{
    private readonly Scratch _scratch = new();

    public void Dispose() => _scratch.Dispose();

    [Fact]
    public async Task Run_JsonResponse_BecomesTheArtifactThatALaterNodesTemplatesAndBodyUse()
    {
        await using var server = await LocalHttpServer.StartAsync((context, _) => context.Request.Method == "GET"
            ? LocalHttpServer.AnswerAsync(context, 200, """{"name": "widget", "count": 3}""", "application/json")
            : LocalHttpServer.AnswerAsync(context, 201, "created"));
        await using var run = await StartAsync("""
            name: fetch
            inputs:
              base: string
              id: int
            nodes:
              fetch:
                http:
                  url: "{{ inputs.base }}/items/{{ inputs.id }}"
                  headers: { Accept: application/json }
                  outputs: json
              store:
                http:
                  method: post
                  url: "{{ inputs.base }}/stored"
                  body: { name: "{{ artifacts.fetch.name }}", count: 3, tags: [a, "{{ workflow.node }}"] }
                  expect: 201
                  outputs: none
              say:
                run: echo "{{ artifacts.fetch.name }} x{{ artifacts.fetch.count }}"
            """);

        var workflow = await run.RunAsync($"base={server.BaseUrl}", "id=7");

        Assert.Equal(WorkflowStatus.Completed, workflow.Status);
        Assert.Equal("widget", workflow.Artifacts["fetch"].GetProperty("name").GetString());
        Assert.Equal(201, workflow.Artifacts["store"].GetInt32());
        Assert.Equal("widget x3", workflow.Artifacts["say"].GetString());
        var requests = server.Requests;
        Assert.Equal([("GET", "/items/7"), ("POST", "/stored")], requests.Select(r => (r.Method, r.PathAndQuery)));
        Assert.Equal("application/json", requests[0].Headers["Accept"]);
        Assert.StartsWith("application/json", requests[1].Headers["Content-Type"], StringComparison.Ordinal);
        Assert.Equal("""{"name":"widget","count":3,"tags":["a","store"]}""", requests[1].Body);

        var commands = await run.Store.GetCommandsAsync(workflow.Id);
        Assert.Equal(
            [($"HTTP GET {server.BaseUrl}/items/7 -> 200", 200), ($"HTTP POST {server.BaseUrl}/stored -> 201", 201)],
            commands.Where(c => c.Node != "say").Select(c => (c.CommandLine, c.ExitCode ?? -1)));
        Assert.Contains("\"widget\"", commands[0].StdoutTail, StringComparison.Ordinal);
        var log = await File.ReadAllTextAsync(run.LogPath(workflow.Id, "fetch"));
        Assert.Contains($"HTTP GET {server.BaseUrl}/items/7", log, StringComparison.Ordinal);
        Assert.Contains("== HTTP 200 OK after ", log, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Run_ServerAnswers503ThenOk_RetriesPerTheNodesPolicyUntilItSucceeds()
    {
        await using var server = await LocalHttpServer.StartAsync((context, before) => before < 2
            ? LocalHttpServer.AnswerAsync(context, 503, "busy, try later")
            : LocalHttpServer.AnswerAsync(context, 200, "ready"));
        await using var run = await StartAsync(Flow(server, "retry: { max_attempts: 3, delay: 10ms, jitter: 0 }"));

        var workflow = await run.RunAsync();

        Assert.Equal(WorkflowStatus.Completed, workflow.Status);
        Assert.Equal("ready", workflow.Artifacts["call"].GetString());
        Assert.Equal(3, server.Requests.Count);
        var steps = await run.Store.GetStepsAsync(workflow.Id);
        Assert.Equal([(1, StepOutcome.Failed), (2, StepOutcome.Failed), (3, StepOutcome.Completed)], steps.Select(s => (s.Attempt, s.Outcome)));
        Assert.Contains("answered 503 Service Unavailable, expected 2xx: \"busy, try later\"", steps[0].Error?.Message, StringComparison.Ordinal);
        Assert.Equal([503, 503, 200], (await run.Store.GetCommandsAsync(workflow.Id)).Select(c => c.ExitCode ?? -1));
    }

    [Fact]
    public async Task Run_ServerAnswers404_FailsAtOnceWithTheStatusAndTheBodysStartWithoutRetrying()
    {
        await using var server = await LocalHttpServer.StartAsync((context, _) => LocalHttpServer.AnswerAsync(context, 404, "no such item\n" + new string('x', 1000)));
        await using var run = await StartAsync(Flow(server, "retry: { max_attempts: 3, delay: 10ms, jitter: 0 }"));

        var workflow = await run.RunAsync();

        Assert.Equal(WorkflowStatus.Failed, workflow.Status);
        Assert.Single(server.Requests);
        Assert.Equal(nameof(HttpRequestFailedException), workflow.Error?.Type);
        Assert.StartsWith($"Node 'call': HTTP GET {server.BaseUrl}/call answered 404 Not Found, expected 2xx: \"no such item xxx", workflow.Error?.Message, StringComparison.Ordinal);
        Assert.True(workflow.Error?.Message.Length < 400, workflow.Error?.Message);
        var command = Assert.Single(await run.Store.GetCommandsAsync(workflow.Id));
        Assert.Equal((404, $"HTTP GET {server.BaseUrl}/call -> 404"), (command.ExitCode, command.CommandLine));
    }

    [Fact]
    public async Task Run_ClientErrorListedInRetryOn_IsRetried()
    {
        await using var server = await LocalHttpServer.StartAsync((context, before) => before == 0
            ? LocalHttpServer.AnswerAsync(context, 429, "slow down")
            : LocalHttpServer.AnswerAsync(context, 200, "ok"));
        await using var run = await StartAsync($$"""
            name: call
            nodes:
              call:
                http: { url: "{{server.BaseUrl}}/call", retry_on: [429] }
                retry: { max_attempts: 2, delay: 10ms, jitter: 0 }
            """);

        var workflow = await run.RunAsync();

        Assert.Equal(WorkflowStatus.Completed, workflow.Status);
        Assert.Equal(2, server.Requests.Count);
    }

    [Fact]
    public async Task Run_ServerThatNeverAnswers_FailsTheNodeAsATimeoutWhenItsTimeoutPasses()
    {
        await using var server = await LocalHttpServer.StartAsync((context, _) => Task.Delay(Timeout.Infinite, context.RequestAborted));
        await using var run = await StartAsync(Flow(server, "timeout: 300ms"));

        var clock = Stopwatch.StartNew();
        var workflow = await run.RunAsync();
        clock.Stop();

        Assert.Equal(WorkflowStatus.Failed, workflow.Status);
        Assert.Equal("timeout", workflow.Error?.Type);
        Assert.Contains("ran longer than", workflow.Error?.Message, StringComparison.Ordinal);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(10), $"The node took {clock.Elapsed} to time out.");
        var command = Assert.Single(await run.Store.GetCommandsAsync(workflow.Id));
        Assert.Equal((null, $"HTTP GET {server.BaseUrl}/call"), (command.ExitCode, command.CommandLine));
    }

    [Fact]
    public async Task Run_NothingListensOnThePort_FailsAsRetryableWithTheReason()
    {
        var port = FreePort();
        await using var run = await StartAsync($$"""
            name: call
            nodes:
              call:
                http: http://127.0.0.1:{{port}}/call
                retry: { max_attempts: 2, delay: 10ms, jitter: 0 }
            """);

        var workflow = await run.RunAsync();

        Assert.Equal(WorkflowStatus.Failed, workflow.Status);
        Assert.Contains($"HTTP GET http://127.0.0.1:{port}/call failed: ", workflow.Error?.Message, StringComparison.Ordinal);
        Assert.Equal([1, 2], (await run.Store.GetStepsAsync(workflow.Id)).Select(s => s.Attempt));
        Assert.All(await run.Store.GetCommandsAsync(workflow.Id), c => Assert.Null(c.ExitCode));
    }

    [Fact]
    public async Task Run_SecretInputInAHeaderAndTheQuery_IsMaskedInCommandsEventsStepsErrorsAndTheLog()
    {
        const string secret = "s3cr3t-Token-9f8e7d";
        const string literal = "literal-key-4b5c6d";

        // The server repeats what it got: the body's tail, a failure's message and the log all see the secret come back.
        await using var server = await LocalHttpServer.StartAsync((context, _) => LocalHttpServer.AnswerAsync(context,
            context.Request.Path == "/ok" ? 200 : 403, $"auth={context.Request.Headers.Authorization} query={context.Request.QueryString}"));
        var observer = new RecordingObserver();
        await using var run = await YamlRun.StartAsync(_scratch, _scratch.Write("flow.yaml", $$$"""
            name: secrets
            inputs:
              token: string
            nodes:
              ok:
                http:
                  url: "{{{server.BaseUrl}}}/ok?api_token={{ inputs.token }}&access_key={{{literal}}}&page=2"
                  headers: { Authorization: "Bearer {{ inputs.token }}" }
                  outputs: none
              refused:
                http:
                  method: POST
                  url: "{{{server.BaseUrl}}}/refused?t={{ inputs.token }}"
                  headers: { Authorization: "Bearer {{ inputs.token }}" }
            """), observer: observer);

        var workflow = await run.RunAsync($"token={secret}");
        Assert.True(await Probe.EventuallyAsync(() => observer.Events.Any(e => e.Kind == WorkflowEventKind.Failed)), "The observer never heard that the workflow failed.");

        Assert.Equal(WorkflowStatus.Failed, workflow.Status);
        Assert.Equal($"Bearer {secret}", server.Requests[0].Headers["Authorization"]);
        var commands = await run.Store.GetCommandsAsync(workflow.Id);
        Assert.Equal($"HTTP GET {server.BaseUrl}/ok?api_token=***&access_key=***&page=2 -> 200", commands[0].CommandLine);
        Assert.Equal($"HTTP POST {server.BaseUrl}/refused?t=*** -> 403", commands[1].CommandLine);
        Assert.Contains("*** query=?api_token=***&access_key=***&page=2", commands[0].StdoutTail, StringComparison.Ordinal);
        Assert.EndsWith("answered 403 Forbidden, expected 2xx: \"auth=*** query=?t=***\".", workflow.Error?.Message, StringComparison.Ordinal);

        // The input is the caller's, kept as given (as for run: nodes); everything the node itself recorded is masked.
        var recorded = JsonSerializer.Serialize(new object?[]
        {
            workflow with { Input = null }, commands, await run.Store.GetEventsAsync(workflow.Id), await run.Store.GetStepsAsync(workflow.Id), observer.Events,
        });
        Assert.DoesNotContain(secret, recorded, StringComparison.Ordinal);
        Assert.DoesNotContain(literal, recorded, StringComparison.Ordinal);
        Assert.Contains(observer.Events, e => e.Kind == WorkflowEventKind.NodeFailed && e.Error?.Message.Contains("403", StringComparison.Ordinal) == true);
        foreach (var node in new[] { "ok", "refused" })
        {
            var log = await File.ReadAllTextAsync(run.LogPath(workflow.Id, node));
            Assert.Contains("auth=", log, StringComparison.Ordinal);
            Assert.Contains(SecretRedactor.Mask, log, StringComparison.Ordinal);
            Assert.DoesNotContain(secret, log, StringComparison.Ordinal);
            Assert.DoesNotContain(literal, log, StringComparison.Ordinal);
        }
    }

    private async Task<YamlRun> StartAsync(string yaml) => await YamlRun.StartAsync(_scratch, _scratch.Write("flow.yaml", yaml));

    private static string Flow(LocalHttpServer server, string settings) => $$"""
        name: call
        nodes:
          call:
            http: {{server.BaseUrl}}/call
            {{settings}}
        """;

    private static int FreePort()
    {
        using var probe = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        probe.Start();
        return ((System.Net.IPEndPoint)probe.LocalEndpoint).Port;
    }

    private sealed class RecordingObserver : IWorkflowObserver
    {
        private readonly ConcurrentQueue<WorkflowEvent> _events = new();

        public IReadOnlyList<WorkflowEvent> Events => [.. _events];

        public ValueTask OnEventAsync(WorkflowEvent workflowEvent, CancellationToken cancellationToken)
        {
            _events.Enqueue(workflowEvent);
            return ValueTask.CompletedTask;
        }
    }
}
