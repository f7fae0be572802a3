using System.Buffers;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Ratchet.Engine;
using Ratchet.Expressions;
using Ratchet.Serialization;

namespace Ratchet.Yaml;

/// <summary>
/// A YAML <c>http:</c> node: renders its URL, headers and body (templates, as plain text), sends the request, logs the
/// response body and records the request as a command (<c>HTTP POST https://host/path -> 201</c>, the status as its exit
/// code, the body's tail; secrets masked), and turns the response into the node's outcome and artifact. A status that is
/// not expected fails the node; 5xx, <c>retry_on</c> statuses and requests that got no answer may be retried, others not.
/// </summary>
internal sealed class HttpRequestNode : IVersionedNode
{
    /// <summary>A request without a <c>timeout</c> of its own waits this long for its answer (as HttpClient does by default).</summary>
    internal static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(100);

    // One handler for every http node of the process: connections are pooled, and renewed so that DNS changes are seen.
    // The node's timeout (the engine's token) limits a request, not the client.
    private static readonly HttpClient Client = new(new SocketsHttpHandler
    {
        PooledConnectionLifetime = TimeSpan.FromMinutes(2),
        AutomaticDecompression = DecompressionMethods.All,
    })
    {
        Timeout = System.Threading.Timeout.InfiniteTimeSpan,
    };

    // How much of an unexpected answer's body its failure message quotes.
    private const int QuotedBodyChars = 200;
    private const int ReadBufferChars = 16 * 1024;

    private readonly WorkflowFile _file;
    private readonly HttpNodeSpec _spec;
    private readonly ShellOptions _options;
    private readonly Template _url;
    private readonly (string Name, Template Value)[] _headers;
    private readonly Template? _body;
    private readonly OutputConditions _conditions;
    private readonly bool _hasTimeout;

    public HttpRequestNode(WorkflowFile file, HttpNodeSpec spec, ShellOptions options)
    {
        _file = file;
        _spec = spec;
        _options = options;
        _url = Template.Parse(spec.Url);
        _headers = [.. spec.Headers.Select(h => (h.Key, Template.Parse(h.Value)))];
        _body = spec.Body is null ? null : Template.Parse(spec.Body);
        _conditions = new OutputConditions(spec.Transitions);
        _hasTimeout = (spec.Timeout ?? file.Defaults.Timeout) is not null;
    }

    /// <summary>Everything that decides what the request is and how its answer is read.</summary>
    public string VersionKey => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(string.Join('\n',
        [
            _spec.Method, _spec.Url, string.Join(';', _spec.Headers.Select(h => $"{h.Key}={h.Value}")), _spec.Body ?? "",
            _spec.JsonBody?.GetRawText() ?? "", string.Join(',', _spec.Expect), string.Join(',', _spec.RetryOn), _spec.Outputs.ToString(),
            string.Join(';', _spec.Transitions.Select(t => $"{t.Kind}:{t.Key}->{t.Target}")),
        ]))))[..16];

    /// <summary>What an http node's retry policy retries: everything but a failure the node knows will not pass.</summary>
    internal static bool IsRetryable(Exception exception) => exception is not HttpRequestFailedException { IsTransient: false };

    /// <summary>Whether <paramref name="url"/> is an absolute http or https URL.</summary>
    internal static bool IsHttpUrl(string url) =>
        Uri.TryCreate(url, UriKind.Absolute, out var uri) && (uri.Scheme == Uri.UriSchemeHttp || uri.Scheme == Uri.UriSchemeHttps);

    /// <summary>Every string in <paramref name="json"/>, for checking (and rendering) the templates of a JSON body.</summary>
    internal static IEnumerable<string> Strings(JsonElement json) => json.ValueKind switch
    {
        JsonValueKind.String => [json.GetString()!],
        JsonValueKind.Array => json.EnumerateArray().SelectMany(Strings),
        JsonValueKind.Object => json.EnumerateObject().SelectMany(p => Strings(p.Value)),
        _ => [],
    };

    public async Task<NodeResult> ExecuteAsync(NodeContext context, CancellationToken cancellationToken)
    {
        var workspace = _file.Workspace == WorkspaceMode.Isolated ? Path.Combine(Path.GetFullPath(_options.WorkspacesDirectory), context.WorkflowId) : null;
        var scope = StateScope.Build(context, _file, workspace, output: null);
        var url = _url.Render(scope);
        var headers = _headers.Select(h => (h.Name, Value: h.Value.Render(scope))).ToArray();
        var redactor = Redactor(scope, url, headers);
        var request = new Request(_spec.Name, $"HTTP {_spec.Method} {url}", redactor, context);
        var logPath = Path.Combine(Path.GetFullPath(_options.RunsDirectory), context.WorkflowId, "logs", $"{_spec.Name}.log");
        Directory.CreateDirectory(Path.GetDirectoryName(logPath)!);
        await using var log = new NodeLog(logPath, _options.MaxLogBytes);
        await log.WriteLineAsync(redactor.Redact($"== {request.Started:O} attempt {context.Attempt}: {request.Line}"));
        if (!IsHttpUrl(url))
        {
            throw await request.FailAsync(log, null, transient: false, $"Node '{_spec.Name}' has the URL '{url}', which is not an absolute http:// or https:// URL; fix 'url' in {_file.Path}.");
        }

        using var message = new HttpRequestMessage(new HttpMethod(_spec.Method), url) { Content = Content(scope) };
        foreach (var (name, value) in headers)
        {
            AddHeader(message, name, value);
        }

        // Without a timeout of its own, a request that never gets an answer must not hold its workflow for ever.
        using var limit = _hasTimeout ? null : new CancellationTokenSource(DefaultTimeout, context.Clock);
        using var linked = limit is null ? null : CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, limit.Token);
        var body = new StreamCapture(redactor, log, "", _options.TailBytes, _options.MaxOutputBytes);
        int status;
        string reason;
        try
        {
            using var response = await Client.SendAsync(message, HttpCompletionOption.ResponseHeadersRead, linked?.Token ?? cancellationToken);
            status = (int)response.StatusCode;

            // HTTP/2 and later send none: the status alone is the answer then.
            reason = string.IsNullOrEmpty(response.ReasonPhrase) ? "" : " " + response.ReasonPhrase;
            await ReadBodyAsync(response, body, linked?.Token ?? cancellationToken);
        }
        catch (OperationCanceledException) when (limit?.IsCancellationRequested == true && !cancellationToken.IsCancellationRequested)
        {
            throw await request.FailAsync(log, null, transient: true,
                $"Node '{_spec.Name}': {request.Line} got no answer within {DefaultTimeout.TotalSeconds:0} s; give the node a 'timeout' if it needs longer.");
        }
        catch (OperationCanceledException)
        {
            // The node's timeout, or the runner stopping it: the engine says which.
            await request.RecordAsync(log, null, "", "== no answer: stopped");
            throw;
        }
        catch (HttpRequestException ex)
        {
            // The inner exception is left out: its message may hold what the redactor masks here.
            throw await request.FailAsync(log, null, transient: true, $"Node '{_spec.Name}': {request.Line} failed: {ex.Message}");
        }

        var output = body.Output!;
        await request.RecordAsync(log, status, body.Tail.ToString(), $"== HTTP {status}{reason}");
        if (output.Overflowed)
        {
            throw new HttpRequestFailedException(_spec.Name, status, transient: false,
                $"Node '{_spec.Name}' got a response body of more than {Sizes.Format(_options.MaxOutputBytes)}; ask for less (a page, a filter), or fetch it in a run: node to a file.");
        }

        if (!(_spec.Expect.Count == 0 ? status is >= 200 and < 300 : _spec.Expect.Contains(status)))
        {
            var quoted = string.Join(' ', redactor.Redact(output.Text).Split((char[])['\n', '\r'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
            quoted = quoted.Length == 0 ? "an empty body" : quoted.Length > QuotedBodyChars ? $"\"{quoted[..QuotedBodyChars]}...\"" : $"\"{quoted}\"";
            var expected = _spec.Expect.Count == 0 ? "2xx" : string.Join(" or ", _spec.Expect);
            throw new HttpRequestFailedException(_spec.Name, status, transient: status >= 500 || _spec.RetryOn.Contains(status),
                redactor.Redact($"Node '{_spec.Name}': {request.Line} answered {status}{reason}, expected {expected}: {quoted}."));
        }

        // As for a command's output: Ratchet's own keys never reach the artifact, a user's secrets are the user's data.
        var printed = _options.ArtifactRedactor.Redact(output.Text);
        return _conditions.Choose(context, _file, workspace, Output(printed, status));
    }

    private JsonElement Output(string text, int status)
    {
        switch (_spec.Outputs)
        {
            case OutputMode.None:
                return JsonSerializer.SerializeToElement(status);
            case OutputMode.Json when string.IsNullOrWhiteSpace(text):
                // 204 No Content, or an empty 200: nothing, which is not a parse error.
                return RatchetJson.Parse("null");
            case OutputMode.Json:
                try
                {
                    return RatchetJson.Parse(text, $"The response body of node '{_spec.Name}'");
                }
                catch (JsonTooDeepException ex)
                {
                    throw new HttpRequestFailedException(_spec.Name, status, transient: false, ex.Message);
                }
                catch (JsonException ex)
                {
                    throw new HttpRequestFailedException(_spec.Name, status, transient: false,
                        $"Node '{_spec.Name}' declares 'outputs: json' but the response body is not JSON ({ex.Message}); use 'outputs: text' for other bodies.");
                }

            default:
                return JsonSerializer.SerializeToElement(text.TrimEnd('\n'));
        }
    }

    /// <summary>The body as written: text, or JSON whose strings are rendered; with its content type, which a header may replace.</summary>
    private StringContent? Content(JsonElement scope)
    {
        if (_body is not null)
        {
            return new StringContent(_body.Render(scope), Encoding.UTF8, "text/plain");
        }

        if (_spec.JsonBody is not { } json)
        {
            return null;
        }

        var buffer = new ArrayBufferWriter<byte>();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            WriteRendered(writer, json, scope);
        }

        return new StringContent(Encoding.UTF8.GetString(buffer.WrittenSpan), Encoding.UTF8, "application/json");
    }

    private static void WriteRendered(Utf8JsonWriter writer, JsonElement value, JsonElement scope)
    {
        switch (value.ValueKind)
        {
            case JsonValueKind.String:
                writer.WriteStringValue(Template.Parse(value.GetString()!).Render(scope));
                break;
            case JsonValueKind.Array:
                writer.WriteStartArray();
                foreach (var item in value.EnumerateArray())
                {
                    WriteRendered(writer, item, scope);
                }

                writer.WriteEndArray();
                break;
            case JsonValueKind.Object:
                writer.WriteStartObject();
                foreach (var property in value.EnumerateObject())
                {
                    writer.WritePropertyName(property.Name);
                    WriteRendered(writer, property.Value, scope);
                }

                writer.WriteEndObject();
                break;
            default:
                value.WriteTo(writer);
                break;
        }
    }

    private static void AddHeader(HttpRequestMessage message, string name, string value)
    {
        if (message.Headers.TryAddWithoutValidation(name, value))
        {
            return;
        }

        // A content header (Content-Type, ...): it belongs to the body, which a request without one gets empty.
        message.Content ??= new ByteArrayContent([]);
        message.Content.Headers.Remove(name);
        message.Content.Headers.TryAddWithoutValidation(name, value);
    }

    private static async Task ReadBodyAsync(HttpResponseMessage response, StreamCapture body, CancellationToken cancellationToken)
    {
        var charset = response.Content.Headers.ContentType?.CharSet?.Trim('"');
        Encoding encoding;
        try
        {
            encoding = charset is null ? Encoding.UTF8 : Encoding.GetEncoding(charset);
        }
        catch (ArgumentException)
        {
            encoding = Encoding.UTF8;
        }

        await using var stream = await response.Content.ReadAsStreamAsync(cancellationToken);
        using var reader = new StreamReader(stream, encoding);
        var buffer = new char[ReadBufferChars];
        int read;

        // Past the artifact's cap the node fails whatever follows: reading on would only cost time.
        while (!body.Output!.Overflowed && (read = await reader.ReadAsync(buffer.AsMemory(), cancellationToken)) > 0)
        {
            await body.AppendAsync(buffer.AsMemory(0, read));
        }

        await body.CompleteAsync();
    }

    /// <summary>
    /// The secrets of this request beside the process's: inputs whose names look secret (as their
    /// <c>RATCHET_INPUT_</c> variables are for a command), the values of headers that carry credentials
    /// (<c>Authorization</c>, <c>Cookie</c>, any secret-looking name such as <c>X-Api-Key</c>) with the credentials after
    /// their scheme, the URL's password and the values of secret-looking query parameters.
    /// </summary>
    private SecretRedactor Redactor(JsonElement scope, string url, IEnumerable<(string Name, string Value)> headers)
    {
        var secrets = new List<string>();
        foreach (var input in scope.GetProperty("inputs").EnumerateObject().Where(i => SecretRedactor.IsSecretName(i.Name)))
        {
            secrets.Add(StateScope.Text(input.Value));
        }

        foreach (var (name, value) in headers.Where(h => IsCredentialHeader(h.Name)))
        {
            secrets.Add(value);
            if (value.Split(' ', 2, StringSplitOptions.TrimEntries) is [_, var credentials])
            {
                secrets.Add(credentials);
            }
        }

        if (Uri.TryCreate(url, UriKind.Absolute, out var uri))
        {
            if (uri.UserInfo.Split(':', 2) is [_, var password])
            {
                secrets.Add(password);
                secrets.Add(Uri.UnescapeDataString(password));
            }

            foreach (var parameter in uri.Query.TrimStart('?').Split('&', StringSplitOptions.RemoveEmptyEntries))
            {
                if (parameter.Split('=', 2) is [var name, var value] && SecretRedactor.IsSecretName(Uri.UnescapeDataString(name).Replace('-', '_')))
                {
                    secrets.Add(value);
                    secrets.Add(Uri.UnescapeDataString(value.Replace('+', ' ')));
                }
            }
        }

        return _options.Redactor.With(_options.ArtifactRedactor).With(secrets);
    }

    private static bool IsCredentialHeader(string name) =>
        SecretRedactor.IsSecretName(name.Replace('-', '_')) || name.Equals("Cookie", StringComparison.OrdinalIgnoreCase) || name.Equals("Set-Cookie", StringComparison.OrdinalIgnoreCase);

    /// <summary>One attempt's request as the audit records it: its command line, when it started, and how it ended.</summary>
    private sealed class Request(string node, string line, SecretRedactor redactor, NodeContext context)
    {
        private readonly long _timestamp = context.Clock.GetTimestamp();

        public string Line { get; } = line;

        public DateTimeOffset Started { get; } = context.Clock.GetStoreNow();

        /// <summary>Records the request (<c>HTTP METHOD URL -> STATUS</c>, masked) and ends the log with <paramref name="closing"/>.</summary>
        public async Task RecordAsync(NodeLog log, int? status, string bodyTail, string closing, string errorTail = "")
        {
            var duration = context.Clock.GetElapsedTime(_timestamp);
            await log.WriteLineAsync(redactor.Redact(string.Create(CultureInfo.InvariantCulture, $"{closing} after {duration.TotalSeconds:0.###}s")));
            context.RecordCommand(new CommandExecution
            {
                WorkflowId = context.WorkflowId,
                Node = node,
                Attempt = context.Attempt,
                CommandLine = redactor.Redact(status is { } code ? string.Create(CultureInfo.InvariantCulture, $"{Line} -> {code}") : Line),
                ExitCode = status,
                Duration = TimeSpan.FromTicks(duration.Ticks - (duration.Ticks % TimeSpan.TicksPerMicrosecond)),
                StdoutTail = bodyTail,
                StderrTail = redactor.Redact(errorTail),
                StartedAt = Started,
            });
        }

        /// <summary>Records a request that got no usable answer and makes the node's failure, its message masked.</summary>
        public async Task<HttpRequestFailedException> FailAsync(NodeLog log, int? status, bool transient, string message)
        {
            var masked = redactor.Redact(message);
            await RecordAsync(log, status, "", $"== {masked}", masked);
            return new HttpRequestFailedException(node, status, transient, masked);
        }
    }
}

/// <summary>An <c>http:</c> node's request failed: no answer, a status it did not expect, or a body it could not use.</summary>
public sealed class HttpRequestFailedException(string node, int? statusCode, bool transient, string message) : RatchetException(message)
{
    /// <summary>The node.</summary>
    public string Node { get; } = node;

    /// <summary>The response's status, when there was a response.</summary>
    public int? StatusCode { get; } = statusCode;

    /// <summary>Whether the same request may succeed later (a 5xx, a <c>retry_on</c> status, no answer); the node's retry policy retries only these.</summary>
    public override bool IsTransient { get; } = transient;

    /// <inheritdoc />
    public override string ErrorCode => "http-failed";
}
