using System.Text.Json;
using Ratchet.Expressions;

namespace Ratchet.Tests.Expressions;

public sealed class ObjectTransformTests
{
    [Fact]
    public void Evaluate_Fields_BuildsAnObjectInFieldOrder()
    {
        var transform = ObjectTransform.Parse(new Dictionary<string, string>
        {
            ["issue"] = "output.issue",
            ["title"] = "'Fix: ' + output.title",
            ["labels"] = "output.items",
            ["meta"] = "output.obj",
            ["urgent"] = "output.count > 2",
            ["missing"] = "output.nope",
            ["count"] = "len(output.files)",
            ["workflow"] = "workflow.id",
        });

        var result = transform.Evaluate(Scopes.Standard);

        Assert.Equal(
            """{"issue":42,"title":"Fix: Crash on start","labels":["a","b","c"],"meta":{"k":"v"},"urgent":true,"missing":null,"count":2,"workflow":"AB12CD34"}""",
            result.GetRawText());
        Assert.Equal(["issue", "title", "labels", "meta", "urgent", "missing", "count", "workflow"], transform.Fields.Select(f => f.Key));
        Assert.Equal("'Fix: ' + output.title", transform.Fields[1].Value.Text);
    }

    [Fact]
    public void Evaluate_Result_OutlivesTheScopeDocument()
    {
        var transform = ObjectTransform.Parse(new Dictionary<string, string> { ["files"] = "output.files", ["n"] = "output.n" });
        JsonElement result;
        using (var document = JsonDocument.Parse("""{"output":{"files":[{"path":"a.cs"}],"n":1.50}}"""))
        {
            result = transform.Evaluate(document.RootElement);
        }

        Assert.Equal("a.cs", result.GetProperty("files")[0].GetProperty("path").GetString());
        Assert.Equal("1.50", result.GetProperty("n").GetRawText());
    }

    [Fact]
    public void Evaluate_NoFields_IsAnEmptyObject()
    {
        var result = ObjectTransform.Parse(new Dictionary<string, string>()).Evaluate(Scopes.Standard);

        Assert.Equal(JsonValueKind.Object, result.ValueKind);
        Assert.Equal("{}", result.GetRawText());
    }

    [Fact]
    public void Evaluate_FieldNamesAndValuesWithSpecialCharacters_AreWrittenAsJson()
    {
        var transform = ObjectTransform.Parse(new Dictionary<string, string>
        {
            ["quote \"and\" é"] = "'line\\nbreak \"quoted\" é'",
        });

        var result = transform.Evaluate(default);

        Assert.Equal("line\nbreak \"quoted\" é", result.GetProperty("quote \"and\" é").GetString());
    }

    [Fact]
    public void Parse_InvalidField_NamesTheFieldAndPosition()
    {
        var exception = Assert.Throws<ExpressionException>(() => ObjectTransform.Parse(new Dictionary<string, string>
        {
            ["issue"] = "output.issue",
            ["title"] = "'Fix: ' + ",
        }));

        Assert.Equal("title", exception.Field);
        Assert.Equal(10, exception.Position);
        Assert.False(exception.IsEvaluationError);
        Assert.Equal(
            "In transform field 'title', the expression \"'Fix: ' + \" is invalid at position 10: expected a value after '+', found the end of the expression.",
            exception.Message);
        Assert.IsType<ExpressionException>(exception.InnerException);
    }

    [Fact]
    public void Evaluate_FailingField_NamesTheField()
    {
        var transform = ObjectTransform.Parse(new Dictionary<string, string>
        {
            ["issue"] = "output.issue",
            ["next"] = "output.count + output.items",
        });

        var exception = Assert.Throws<ExpressionException>(() => transform.Evaluate(Scopes.Standard));

        Assert.Equal("next", exception.Field);
        Assert.Equal(13, exception.Position);
        Assert.True(exception.IsEvaluationError);
        Assert.StartsWith("In transform field 'next', the expression \"output.count + output.items\" could not be evaluated at position 13: cannot add a number and an array", exception.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_NullExpression_ThrowsArgumentExceptionNamingTheField()
    {
        var exception = Assert.Throws<ArgumentException>(() => ObjectTransform.Parse(new Dictionary<string, string> { ["issue"] = null! }));

        Assert.Contains("'issue'", exception.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_NullDictionary_ThrowsArgumentNullException()
    {
        Assert.Throws<ArgumentNullException>(() => ObjectTransform.Parse(null!));
    }

    [Fact]
    public void Evaluate_ScopeNotAnObject_ThrowsArgumentException()
    {
        var transform = ObjectTransform.Parse(new Dictionary<string, string> { ["a"] = "output.a" });

        Assert.Throws<ArgumentException>(() => transform.Evaluate(Scopes.Parse("[1]")));
    }
}
