using System.Text.Json;

namespace Ratchet.Yaml.Tests;

/// <summary><c>--input key=value</c> pairs bound to a file's declared inputs.</summary>
public sealed class WorkflowInputsTests
{
    private static readonly WorkflowFile File = WorkflowFileParser.Parse("""
        name: typed
        inputs:
          issue: int
          ratio: { type: number, default: 0.5 }
          draft: { type: bool, default: false }
          labels: { type: json, default: [] }
          title: { type: string, description: the title }
          note: { type: string, required: false }
        nodes:
          a: { run: echo }
        """, "/srv/demo/typed.yaml");

    [Fact]
    public void Bind_EveryType_ConvertsToItsJsonType()
    {
        var input = WorkflowInputs.Bind(File, ["issue=42", "ratio=2.5", "draft=true", "labels=[\"bug\",{\"p\":1}]", "title=Fix it"]);

        Assert.Equal(42, input.GetProperty("issue").GetInt64());
        Assert.Equal(2.5, input.GetProperty("ratio").GetDouble());
        Assert.True(input.GetProperty("draft").GetBoolean());
        Assert.Equal("""["bug",{"p":1}]""", input.GetProperty("labels").GetRawText());
        Assert.Equal("Fix it", input.GetProperty("title").GetString());
    }

    [Fact]
    public void Bind_OmittedInputsWithDefaults_TakeTheDefaults()
    {
        var input = WorkflowInputs.Bind(File, ["issue=1", "title=t"]);

        Assert.Equal(0.5, input.GetProperty("ratio").GetDouble());
        Assert.Equal(JsonValueKind.False, input.GetProperty("draft").ValueKind);
        Assert.Equal(JsonValueKind.Array, input.GetProperty("labels").ValueKind);
        Assert.False(input.TryGetProperty("note", out _));
    }

    [Fact]
    public void Bind_ValueContainingEquals_KeepsEverythingAfterTheFirst()
    {
        var input = WorkflowInputs.Bind(File, ["issue=1", "title=a=b=c"]);

        Assert.Equal("a=b=c", input.GetProperty("title").GetString());
    }

    [Fact]
    public void Bind_MissingRequiredInput_IsRefusedNamingItAndHowToPassIt()
    {
        var error = Assert.Throws<WorkflowInputException>(() => WorkflowInputs.Bind(File, ["title=t"]));

        Assert.Contains("The required input 'issue' (integer) is missing; pass --input issue=...", error.Message, StringComparison.Ordinal);
        Assert.Equal("invalid-input", error.ErrorCode);
    }

    [Fact]
    public void Bind_UnknownKey_IsRefusedListingTheInputs()
    {
        var error = Assert.Throws<WorkflowInputException>(() => WorkflowInputs.Bind(File, ["issue=1", "title=t", "isue=2"]));

        Assert.Contains("'typed' has no input 'isue'; its inputs are issue, ratio, draft, labels, title, note.", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("issue=forty-two", "'issue' must be a whole number, not 'forty-two'")]
    [InlineData("ratio=half", "'ratio' must be a number, not 'half'")]
    [InlineData("draft=maybe", "'draft' must be true or false, not 'maybe'")]
    [InlineData("labels=[1,", "'labels' must be JSON")]
    public void Bind_ValueOfTheWrongType_IsRefused(string pair, string expected)
    {
        var error = Assert.Throws<WorkflowInputException>(() => WorkflowInputs.Bind(File, ["issue=1", "title=t", pair]));

        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Bind_PairWithoutEquals_IsRefused()
    {
        var error = Assert.Throws<WorkflowInputException>(() => WorkflowInputs.Bind(File, ["issue=1", "title=t", "verbose"]));

        Assert.Contains("'verbose' is not key=value", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Bind_SeveralProblems_ListsEveryOneInOneMessage()
    {
        var error = Assert.Throws<WorkflowInputException>(() => WorkflowInputs.Bind(File, ["ratio=x", "bogus=1"]));

        Assert.Contains("'ratio' must be a number", error.Message, StringComparison.Ordinal);
        Assert.Contains("no input 'bogus'", error.Message, StringComparison.Ordinal);
        Assert.Contains("'issue'", error.Message, StringComparison.Ordinal);
        Assert.Contains("'title'", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', error.Message);
    }

    [Fact]
    public void Bind_FileWithoutInputs_RefusesAnyInput()
    {
        var bare = WorkflowFileParser.Parse("name: bare\nnodes:\n  a: { run: echo }\n", "/srv/demo/bare.yaml");

        var error = Assert.Throws<WorkflowInputException>(() => WorkflowInputs.Bind(bare, ["x=1"]));

        Assert.Contains("'bare' takes no inputs, but 'x' was given.", error.Message, StringComparison.Ordinal);
        Assert.Equal("{}", WorkflowInputs.Bind(bare, []).GetRawText());
    }
}
