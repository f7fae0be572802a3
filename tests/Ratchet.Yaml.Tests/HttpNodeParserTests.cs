namespace Ratchet.Yaml.Tests;

/// <summary>How the parser reads <c>http:</c> nodes, and how it reports their mistakes: line, column, and what to write.</summary>
public sealed class HttpNodeParserTests
{
    private static WorkflowFileException Refused(string yaml) =>
        Assert.Throws<WorkflowFileException>(() => WorkflowFileParser.Parse(yaml, "/srv/demo/flow.yaml"));

    private static HttpNodeSpec Parsed(string yaml) => Assert.IsType<HttpNodeSpec>(Assert.Single(WorkflowFileParser.Parse(yaml, "/srv/demo/flow.yaml").Nodes));

    [Fact]
    public void Parse_EveryHttpKey_ReadsTheNodeAsWritten()
    {
        var spec = Parsed("""
            name: calls
            nodes:
              create:
                http:
                  method: patch
                  url: "https://api.example.com/items/{{ inputs.id }}"
                  headers: { Authorization: "Bearer {{ inputs.token }}", X-Trace: "1" }
                  body: { name: "{{ inputs.name }}", count: 3 }
                  expect: [200, 201]
                  retry_on: 429
                  outputs: json
                retry: 3
                timeout: 5s
                on: { "output.id": end, failure: end }
            """);

        Assert.Equal(("http", "PATCH", "https://api.example.com/items/{{ inputs.id }}"), (spec.Verb, spec.Method, spec.Url));
        Assert.Equal([new("Authorization", "Bearer {{ inputs.token }}"), new KeyValuePair<string, string>("X-Trace", "1")], spec.Headers);
        Assert.Equal("""{"name":"{{ inputs.name }}","count":3}""", spec.JsonBody?.GetRawText());
        Assert.Null(spec.Body);
        Assert.Equal([200, 201], spec.Expect);
        Assert.Equal([429], spec.RetryOn);
        Assert.Equal(OutputMode.Json, spec.Outputs);
        Assert.Equal((3, TimeSpan.FromSeconds(5)), (spec.Retry!.MaxAttempts, spec.Timeout));
        Assert.Equal([TransitionKind.Condition, TransitionKind.Failure], spec.Transitions.Select(t => t.Kind));
    }

    [Fact]
    public void Parse_HttpWithAUrlOnly_IsAGetWithTheDefaults()
    {
        var spec = Parsed("""
            name: calls
            nodes:
              ping:
                http: http://127.0.0.1:8080/health
            """);

        Assert.Equal(("GET", "http://127.0.0.1:8080/health", OutputMode.Text), (spec.Method, spec.Url, spec.Outputs));
        Assert.Empty(spec.Expect);
        Assert.Empty(spec.Headers);
    }

    [Fact]
    public void Parse_TextBody_IsKeptAsTheTemplateItIs()
    {
        var spec = Parsed("""
            name: calls
            nodes:
              post:
                http: { method: POST, url: "https://example.com/hook", body: "issue {{ inputs.issue }} done" }
            """);

        Assert.Equal("issue {{ inputs.issue }} done", spec.Body);
        Assert.Null(spec.JsonBody);
    }

    [Fact]
    public void Parse_MisspelledHttpKey_SuggestsTheKnownKeyAtItsPosition()
    {
        var problem = Assert.Single(Refused("""
            name: calls
            nodes:
              ping:
                http:
                  url: https://example.com
                  methd: POST
            """).Problems);

        Assert.Equal(new SourcePosition(6, 7), problem.Position);
        Assert.Equal("Unknown key 'methd' in 'http' of node 'ping' (did you mean 'method'?).", problem.Message);
    }

    [Fact]
    public void Parse_UnknownMethod_ListsTheMethods()
    {
        var problem = Assert.Single(Refused("""
            name: calls
            nodes:
              ping:
                http: { url: "https://example.com", method: FETCH }
            """).Problems);

        Assert.Equal(new SourcePosition(4, 49), problem.Position);
        Assert.Equal("Method is 'FETCH'; write GET, POST, PUT, PATCH or DELETE.", problem.Message);
    }

    [Theory]
    [InlineData("ftp://example.com/file")]
    [InlineData("example.com/path")]
    [InlineData("file:///etc/passwd")]
    [InlineData("ftp://{{ inputs.host }}/file")]
    public void Parse_UrlThatIsNotHttp_IsRefusedAtTheUrl(string url)
    {
        var problem = Assert.Single(Refused($$"""
            name: calls
            nodes:
              get:
                http:
                  url: "{{url}}"
            """).Problems);

        Assert.Equal(new SourcePosition(5, 12), problem.Position);
        Assert.Equal($"The URL of node 'get' is '{url}'; it must be an absolute http:// or https:// URL.", problem.Message);
    }

    [Fact]
    public void Parse_UrlFromATemplateAlone_IsCheckedWhenItIsRendered()
    {
        Assert.Equal("{{ inputs.base }}/items", Parsed("""
            name: calls
            nodes:
              get:
                http: "{{ inputs.base }}/items"
            """).Url);
    }

    [Fact]
    public void Parse_HttpWithoutUrl_SaysToAddOne()
    {
        var problem = Assert.Single(Refused("""
            name: calls
            nodes:
              get:
                http: { method: GET }
            """).Problems);

        Assert.Equal(new SourcePosition(4, 11), problem.Position);
        Assert.Contains("'http' of node 'get' has no 'url'; add one", problem.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_BadStatusesAndHeaderName_AreEachRefusedWhereTheyAre()
    {
        var problems = Refused("""
            name: calls
            nodes:
              get:
                http:
                  url: https://example.com
                  expect: [200, 999]
                  retry_on: often
                  headers: { "Bad Header": x }
            """).Problems;

        Assert.Equal(
        [
            (new SourcePosition(6, 21), "Expect must be an HTTP status (100 to 599) or a list of them, not '999'."),
            (new SourcePosition(7, 17), "Retry_on must be an HTTP status (100 to 599) or a list of them, not 'often'."),
            (new SourcePosition(8, 16), "'Bad Header' in the headers of node 'get' is not a header name (letters, digits and !#$%&'*+-.^_`|~)."),
        ], problems.Select(p => (p.Position!.Value, p.Message)));
    }

    [Fact]
    public void Parse_BadTemplateInHeaderOrBody_IsRefused()
    {
        var problems = Refused("""
            name: calls
            nodes:
              post:
                http:
                  url: https://example.com
                  headers: { X-Id: "{{ inputs.id" }
                  body: { text: "{{ ) }}" }
            """).Problems;

        Assert.Equal(2, problems.Count);
        Assert.Contains("The header 'X-Id' of node 'post' has a bad template", problems[0].Message, StringComparison.Ordinal);
        Assert.Contains("The body of node 'post' has a bad template", problems[1].Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_RunKeyOnAnHttpNode_SaysWhichNodesItAppliesTo()
    {
        var problem = Assert.Single(Refused("""
            name: calls
            nodes:
              get:
                http: https://example.com
                outputs: json
            """).Problems);

        Assert.Equal(new SourcePosition(5, 5), problem.Position);
        Assert.Equal("Node 'get' has 'outputs:', which only applies to 'run:' nodes.", problem.Message);
    }

    [Fact]
    public void Parse_ExitCodeTransitionOnAnHttpNode_DoesNotApply()
    {
        var problem = Assert.Single(Refused("""
            name: calls
            nodes:
              get:
                http: https://example.com
                on: { exit 3: get }
            """).Problems);

        Assert.Contains("'on: exit 3' does not apply to node 'get', a http node", problem.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_HttpAndRunOnOneNode_IsRefusedAsTwoKinds()
    {
        var problem = Assert.Single(Refused("""
            name: calls
            nodes:
              both:
                run: make
                http: https://example.com
            """).Problems);

        Assert.Equal("Node 'both' has 'run:' and 'http:'; a node does exactly one of them.", problem.Message);
    }

    [Fact]
    public void Parse_NodeWithoutKind_NamesEveryVerbWithWhatItDoes()
    {
        var problem = Assert.Single(Refused("""
            name: calls
            nodes:
              idle:
                next: end
            """).Problems);

        Assert.Equal(
            "Node 'idle' does nothing: give it one of 'run:' (a shell command), 'approval:' (a prompt for a human), 'workflow:' (another workflow file), 'http:' (an HTTP request), 'sleep:' (a duration to sleep) or 'wait:' (a time or a signal to wait for).",
            problem.Message);
    }
}
