using System.Collections.Concurrent;
using System.Net;
using System.Text;
using Ratchet.Tests.Fakes;

namespace Ratchet.Cli.Tests;

/// <summary>One span as the receiver decoded it.</summary>
internal sealed record ReceivedSpan(string TraceId, string SpanId, string ParentSpanId, string Name);

/// <summary>
/// An OTLP/HTTP receiver on 127.0.0.1: accepts protobuf exports on <c>/v1/traces</c> and <c>/v1/metrics</c>, decodes
/// spans (trace id, span id, parent, name) with a small wire-format walker, and counts metric exports.
/// </summary>
internal sealed class OtlpReceiver : IAsyncDisposable
{
    private readonly HttpListener _listener = new();
    private readonly ConcurrentQueue<ReceivedSpan> _spans = new();
    private readonly ConcurrentQueue<string> _metricNames = new();
    private readonly Task _loop;

    public OtlpReceiver()
    {
        Port = FakeGitHub.FreePort();
        _listener.Prefixes.Add($"http://127.0.0.1:{Port}/");
        _listener.Start();
        _loop = Task.Run(ServeAsync);
    }

    public int Port { get; }

    public string Endpoint => $"http://127.0.0.1:{Port}";

    public IReadOnlyList<ReceivedSpan> Spans => [.. _spans];

    public IReadOnlyList<string> MetricNames => [.. _metricNames];

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

            using var body = new MemoryStream();
            await context.Request.InputStream.CopyToAsync(body);
            var bytes = body.ToArray();
            switch (context.Request.Url!.AbsolutePath)
            {
                case "/v1/traces":
                    Traces(bytes);
                    break;
                case "/v1/metrics":
                    Metrics(bytes);
                    break;
                default:
                    context.Response.StatusCode = 404;
                    break;
            }

            context.Response.ContentType = "application/x-protobuf";
            context.Response.Close();
        }
    }

    // ExportTraceServiceRequest: 1 resource_spans { 2 scope_spans { 2 spans { 1 trace_id, 2 span_id, 4 parent_span_id, 5 name } } }
    private void Traces(byte[] request)
    {
        foreach (var resourceSpans in Protobuf.Fields(request, 1))
        {
            foreach (var scopeSpans in Protobuf.Fields(resourceSpans, 2))
            {
                foreach (var span in Protobuf.Fields(scopeSpans, 2))
                {
                    string Field(int number) => Protobuf.Fields(span, number).Select(Convert.ToHexStringLower).FirstOrDefault() ?? "";
                    var name = Protobuf.Fields(span, 5).Select(b => Encoding.UTF8.GetString(b)).FirstOrDefault() ?? "";
                    _spans.Enqueue(new ReceivedSpan(Field(1), Field(2), Field(4), name));
                }
            }
        }
    }

    // ExportMetricsServiceRequest: 1 resource_metrics { 2 scope_metrics { 2 metrics { 1 name } } }
    private void Metrics(byte[] request)
    {
        foreach (var resourceMetrics in Protobuf.Fields(request, 1))
        {
            foreach (var scopeMetrics in Protobuf.Fields(resourceMetrics, 2))
            {
                foreach (var metric in Protobuf.Fields(scopeMetrics, 2))
                {
                    _metricNames.Enqueue(Protobuf.Fields(metric, 1).Select(b => Encoding.UTF8.GetString(b)).FirstOrDefault() ?? "");
                }
            }
        }
    }
}

/// <summary>Just enough of the protobuf wire format to pick out length-delimited fields.</summary>
internal static class Protobuf
{
    /// <summary>The values of every length-delimited field numbered <paramref name="number"/> in a message.</summary>
    public static IEnumerable<byte[]> Fields(byte[] message, int number)
    {
        var position = 0;
        while (position < message.Length)
        {
            var key = Varint(message, ref position);
            var field = (int)(key >> 3);
            switch ((int)(key & 7))
            {
                case 0:
                    Varint(message, ref position);
                    break;
                case 1:
                    position += 8;
                    break;
                case 2:
                    var length = (int)Varint(message, ref position);
                    if (field == number)
                    {
                        yield return message[position..(position + length)];
                    }

                    position += length;
                    break;
                case 5:
                    position += 4;
                    break;
                default:
                    throw new InvalidDataException($"Unsupported wire type in key {key} at {position}.");
            }
        }
    }

    private static ulong Varint(byte[] buffer, ref int position)
    {
        ulong value = 0;
        for (var shift = 0; ; shift += 7)
        {
            var b = buffer[position++];
            value |= (ulong)(b & 0x7f) << shift;
            if ((b & 0x80) == 0)
            {
                return value;
            }
        }
    }
}
