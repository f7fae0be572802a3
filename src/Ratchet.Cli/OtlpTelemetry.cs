using OpenTelemetry;
using OpenTelemetry.Exporter;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;
using Ratchet.Engine;

namespace Ratchet.Cli;

/// <summary>
/// Exports the engine's spans and metrics (<see cref="RatchetTelemetry"/>) with the OpenTelemetry SDK's OTLP exporter,
/// over HTTP/protobuf unless <c>OTEL_EXPORTER_OTLP_PROTOCOL=grpc</c>. Disposing flushes both, so a command's last
/// spans and metrics leave before the process does (Ctrl-C included: the command returns, then disposes).
/// </summary>
internal sealed class OtlpTelemetry : IDisposable
{
    public const string EndpointVariable = "OTEL_EXPORTER_OTLP_ENDPOINT";
    private const string ProtocolVariable = "OTEL_EXPORTER_OTLP_PROTOCOL";

    private readonly TracerProvider _tracing;
    private readonly MeterProvider _metrics;

    private OtlpTelemetry(TracerProvider tracing, MeterProvider metrics)
    {
        _tracing = tracing;
        _metrics = metrics;
    }

    /// <summary>Starts exporting to <paramref name="endpoint"/> (the collector's root URL); null when it is null.</summary>
    public static OtlpTelemetry? Start(string? endpoint)
    {
        if (endpoint is null)
        {
            return null;
        }

        if (!Uri.TryCreate(endpoint, UriKind.Absolute, out var root) || (root.Scheme != Uri.UriSchemeHttp && root.Scheme != Uri.UriSchemeHttps))
        {
            throw new UsageException($"The OTLP endpoint '{endpoint}' is not an http or https URL; give the collector's root, like http://localhost:4318.");
        }

        var grpc = string.Equals(Environment.GetEnvironmentVariable(ProtocolVariable), "grpc", StringComparison.OrdinalIgnoreCase);
        var resource = ResourceBuilder.CreateDefault().AddService("ratchet", serviceVersion: RatchetCli.Version);
        var tracing = Sdk.CreateTracerProviderBuilder()
            .SetResourceBuilder(resource)
            .AddSource(RatchetTelemetry.Name)
            .AddOtlpExporter(o => Configure(o, root, grpc, "v1/traces"))
            .Build();
        var metrics = Sdk.CreateMeterProviderBuilder()
            .SetResourceBuilder(resource)
            .AddMeter(RatchetTelemetry.Name)
            .AddOtlpExporter((o, reader) =>
            {
                Configure(o, root, grpc, "v1/metrics");

                // Commands are often short: export every few seconds, and once more on exit.
                reader.PeriodicExportingMetricReaderOptions.ExportIntervalMilliseconds = 5000;
            })
            .Build();
        return new OtlpTelemetry(tracing, metrics);
    }

    public void Dispose()
    {
        // Dispose shuts each provider down, which exports what is buffered (bounded by the SDK's own timeout).
        _tracing.Dispose();
        _metrics.Dispose();
    }

    private static void Configure(OtlpExporterOptions options, Uri root, bool grpc, string signalPath)
    {
        // Given in code, the endpoint is used as is: HTTP needs each signal's path added (the SDK adds it only for the
        // environment variable), gRPC takes the root.
        options.Protocol = grpc ? OtlpExportProtocol.Grpc : OtlpExportProtocol.HttpProtobuf;
        options.Endpoint = grpc ? root : new Uri(root.AbsoluteUri.TrimEnd('/') + "/" + signalPath);
    }
}
