using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace Ratchet.Tests.Fakes;

/// <summary>One request the fake GitHub received.</summary>
internal sealed record RecordedRequest(string Method, string Path, string? Body, string? Authorization, int Status);

/// <summary>
/// The two issue-comment endpoints of GitHub's REST API on 127.0.0.1 (a free port): comments are kept in memory, every
/// request is recorded, and failures can be queued to be answered before the real answers.
/// </summary>
internal sealed partial class FakeGitHub : IAsyncDisposable
{
    private readonly HttpListener _listener = new();
    private readonly ConcurrentQueue<RecordedRequest> _requests = new();
    private readonly ConcurrentQueue<(int Status, IReadOnlyDictionary<string, string> Headers)> _failures = new();
    private readonly ConcurrentDictionary<long, string> _comments = new();
    private readonly Task _loop;
    private long _nextId = 1000;

    public FakeGitHub()
    {
        Port = FreePort();
        _listener.Prefixes.Add($"http://127.0.0.1:{Port}/");
        _listener.Start();
        _loop = Task.Run(ServeAsync);
    }

    public int Port { get; }

    public Uri BaseUrl => new($"http://127.0.0.1:{Port}/");

    public IReadOnlyList<RecordedRequest> Requests => [.. _requests];

    /// <summary>The comments as they stand now, by id.</summary>
    public IReadOnlyDictionary<long, string> Comments => new Dictionary<long, string>(_comments);

    /// <summary>The next request (whatever it is) is answered with <paramref name="status"/> instead.</summary>
    public void Fail(int status, IReadOnlyDictionary<string, string>? headers = null) =>
        _failures.Enqueue((status, headers ?? new Dictionary<string, string>()));

    /// <summary>A port nothing listens on (for "GitHub is down").</summary>
    public static int FreePort()
    {
        using var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        return ((IPEndPoint)probe.LocalEndpoint).Port;
    }

    public async ValueTask DisposeAsync()
    {
        _listener.Stop();
        _listener.Close();
        await _loop;
    }

    private async Task ServeAsync()
    {
        while (true)
        {
            HttpListenerContext context;
            try
            {
                context = await _listener.GetContextAsync();
            }
            catch (Exception ex) when (ex is HttpListenerException or ObjectDisposedException or InvalidOperationException)
            {
                return;
            }

            await AnswerAsync(context);
        }
    }

    private async Task AnswerAsync(HttpListenerContext context)
    {
        var request = context.Request;
        using var reader = new StreamReader(request.InputStream, Encoding.UTF8);
        var body = await reader.ReadToEndAsync();
        var path = request.Url!.AbsolutePath;
        var text = body.Length == 0 ? null : JsonDocument.Parse(body).RootElement.GetProperty("body").GetString();
        var (status, answer, headers) = Route(request.HttpMethod, path, text);
        _requests.Enqueue(new RecordedRequest(request.HttpMethod, path, text, request.Headers["Authorization"], status));
        var response = context.Response;
        response.StatusCode = status;
        foreach (var (name, value) in headers)
        {
            response.Headers[name] = value;
        }

        var bytes = Encoding.UTF8.GetBytes(answer);
        response.ContentType = "application/json";
        response.ContentLength64 = bytes.Length;
        await response.OutputStream.WriteAsync(bytes);
        response.Close();
    }

    private (int Status, string Answer, IReadOnlyDictionary<string, string> Headers) Route(string method, string path, string? text)
    {
        var none = new Dictionary<string, string>();
        if (_failures.TryDequeue(out var failure))
        {
            return (failure.Status, """{"message":"try again"}""", failure.Headers);
        }

        if (method == "POST" && CreatePath().IsMatch(path) && text is not null)
        {
            var id = Interlocked.Increment(ref _nextId);
            _comments[id] = text;
            return (201, $$"""{"id":{{id}},"body":"…"}""", none);
        }

        if (method == "PATCH" && EditPath().Match(path) is { Success: true } edit && text is not null)
        {
            var id = long.Parse(edit.Groups[1].Value, CultureInfo.InvariantCulture);
            if (!_comments.ContainsKey(id))
            {
                return (404, """{"message":"Not Found"}""", none);
            }

            _comments[id] = text;
            return (200, $$"""{"id":{{id}},"body":"…"}""", none);
        }

        return (404, """{"message":"Not Found"}""", none);
    }

    [GeneratedRegex("^/repos/[^/]+/[^/]+/issues/[0-9]+/comments$")]
    private static partial Regex CreatePath();

    [GeneratedRegex("^/repos/[^/]+/[^/]+/issues/comments/([0-9]+)$")]
    private static partial Regex EditPath();
}
