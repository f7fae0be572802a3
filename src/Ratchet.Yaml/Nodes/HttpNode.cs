using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;
using Ratchet.Engine;
using Ratchet.Expressions;
using YamlDotNet.RepresentationModel;

namespace Ratchet.Yaml;

/// <summary>An <c>http:</c> node: one HTTP request (see <see cref="HttpRequestNode"/>).</summary>
public sealed record HttpNodeSpec : NodeSpec
{
    internal HttpNodeSpec()
    {
    }

    /// <summary>GET (default), POST, PUT, PATCH or DELETE.</summary>
    public string Method { get; init; } = "GET";

    /// <summary>The URL template; rendered, it must be an absolute http or https URL.</summary>
    public string Url { get; init; } = "";

    /// <summary>Request headers, each value a template.</summary>
    public IReadOnlyList<KeyValuePair<string, string>> Headers { get; init; } = [];

    /// <summary>A body written as text, a template; sent as <c>text/plain</c> unless a header says otherwise.</summary>
    public string? Body { get; init; }

    /// <summary>A body written as a mapping or list, sent as JSON (<c>application/json</c>), its strings templates.</summary>
    public JsonElement? JsonBody { get; init; }

    /// <summary>The statuses that are a success; empty for any 2xx.</summary>
    public IReadOnlyList<int> Expect { get; init; } = [];

    /// <summary>Statuses retried by the node's <c>retry</c> besides 5xx (a 4xx is not retried unless listed here).</summary>
    public IReadOnlyList<int> RetryOn { get; init; } = [];

    /// <summary>What the response body becomes.</summary>
    public OutputMode Outputs { get; init; } = OutputMode.Text;
}

/// <summary>
/// Reads <c>http: URL</c> (a GET) or <c>http: { method, url, headers, body, expect, retry_on, outputs }</c>; the URL,
/// header values and body are templates, checked here, and a URL without holes must already be http or https.
/// </summary>
internal sealed partial class HttpNodeReader : NodeReader<HttpNodeSpec>
{
    private static readonly string[] HttpKeys = ["method", "url", "headers", "body", "expect", "retry_on", "outputs"];
    private static readonly string[] Methods = ["GET", "POST", "PUT", "PATCH", "DELETE"];

    public override string Verb => "http";

    public override string Summary => "an HTTP request";

    public override bool HasTimeout => true;

    public override bool Takes(TransitionKind transition) => transition is TransitionKind.Success or TransitionKind.Failure or TransitionKind.Condition;

    /// <summary>Whatever the policy says, only failures that may pass are retried: 5xx, <c>retry_on</c>, no answer.</summary>
    public override RetryPolicy? Retry(RetryPolicy? own, RetryPolicy fileDefault) => (own ?? fileDefault) with { ShouldRetry = HttpRequestNode.IsRetryable };

    public override NodeSpec? Read(NodeReading node)
    {
        var yaml = node.Yaml;
        if (node.Verb is YamlScalarNode)
        {
            var url = yaml.Text(node.Verb, "http");
            return url is not null && CheckUrl(yaml, url, node.Verb, node.Name) ? new HttpNodeSpec { Url = url } : null;
        }

        if (node.Verb is not YamlMappingNode mapping)
        {
            yaml.Problem(node.Verb, $"'http' of node '{node.Name}' must be a URL or a mapping with {string.Join(", ", HttpKeys)}, e.g.\n  http:\n    method: POST\n    url: https://api.example.com/items");
            return null;
        }

        var spec = new HttpNodeSpec();
        var valid = true;
        string? urlText = null;
        foreach (var (keyNode, value) in mapping.Children)
        {
            var key = WorkflowFileParser.Reader.Key(keyNode);
            switch (key)
            {
                case "method":
                    var method = yaml.Text(value, "method")?.ToUpperInvariant();
                    if (method is not null && !Methods.Contains(method))
                    {
                        yaml.Problem(value, $"method is '{method}'; write {string.Join(", ", Methods[..^1])} or {Methods[^1]}.");
                    }

                    spec = spec with { Method = method ?? spec.Method };
                    break;
                case "url":
                    urlText = yaml.Text(value, "url");
                    valid &= urlText is not null && CheckUrl(yaml, urlText, value, node.Name);
                    break;
                case "headers":
                    var headers = yaml.Environment(value, "headers");
                    foreach (var (name, template) in headers)
                    {
                        if (!HeaderName().IsMatch(name))
                        {
                            yaml.Problem(value, $"'{name}' in the headers of node '{node.Name}' is not a header name (letters, digits and !#$%&'*+-.^_`|~).");
                        }

                        yaml.CheckTemplate(template, value, $"the header '{name}' of node '{node.Name}'");
                    }

                    spec = spec with { Headers = headers };
                    break;
                case "body" when value is YamlScalarNode:
                    var body = yaml.Text(value, "body") ?? "";
                    yaml.CheckTemplate(body, value, $"the body of node '{node.Name}'");
                    spec = spec with { Body = body };
                    break;
                case "body":
                    var json = WorkflowFileParser.ToJson(value);
                    foreach (var text in HttpRequestNode.Strings(json))
                    {
                        yaml.CheckTemplate(text, value, $"the body of node '{node.Name}'");
                    }

                    spec = spec with { JsonBody = json };
                    break;
                case "expect":
                    spec = spec with { Expect = Statuses(yaml, value, "expect") };
                    break;
                case "retry_on":
                    spec = spec with { RetryOn = Statuses(yaml, value, "retry_on") };
                    break;
                case "outputs":
                    spec = spec with { Outputs = yaml.Outputs(value) };
                    break;
                default:
                    yaml.Unknown(keyNode, key, $"in 'http' of node '{node.Name}'", HttpKeys);
                    break;
            }
        }

        if (urlText is null && !mapping.Children.ContainsKey(new YamlScalarNode("url")))
        {
            yaml.Problem(node.Verb, $"'http' of node '{node.Name}' has no 'url'; add one, e.g. url: https://api.example.com/items.");
        }

        return valid && urlText is not null ? spec with { Url = urlText } : null;
    }

    protected override void Compile(HttpNodeSpec spec, NodeCompilation compilation) =>
        compilation.Builder.Node(spec.Name, new HttpRequestNode(compilation.File, spec, compilation.Options));

    /// <summary>A URL's template, and the URL itself as far as it is written out: refused unless it is http or https.</summary>
    private static bool CheckUrl(WorkflowFileParser.Reader yaml, string url, YamlNode at, string node)
    {
        Template template;
        try
        {
            template = Template.Parse(url);
        }
        catch (ExpressionException ex)
        {
            yaml.Problem(at, $"the URL of node '{node}' has a bad template: {ex.Message}");
            return false;
        }

        // Before its first hole, a URL's scheme is already known when "://" is written out.
        var written = template.Expressions.Count == 0 ? url : url[..url.IndexOf("{{", StringComparison.Ordinal)];
        var complete = template.Expressions.Count == 0 || written.Contains("://", StringComparison.Ordinal);
        if (complete && !HttpRequestNode.IsHttpUrl(template.Expressions.Count == 0 ? url : written + "host"))
        {
            yaml.Problem(at, $"the URL of node '{node}' is '{url}'; it must be an absolute http:// or https:// URL.");
            return false;
        }

        return true;
    }

    private static int[] Statuses(WorkflowFileParser.Reader yaml, YamlNode value, string what)
    {
        var items = value is YamlSequenceNode sequence ? sequence.Children : [value];
        var statuses = new List<int>();
        foreach (var item in items)
        {
            var text = item is YamlScalarNode scalar ? scalar.Value : null;
            if (int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var status) && status is >= 100 and <= 599)
            {
                statuses.Add(status);
            }
            else
            {
                yaml.Problem(item, $"{what} must be an HTTP status (100 to 599) or a list of them, not '{text ?? "a mapping"}'.");
            }
        }

        return [.. statuses];
    }

    [GeneratedRegex("^[!#$%&'*+\\-.^_`|~0-9A-Za-z]+$")]
    private static partial Regex HeaderName();
}
