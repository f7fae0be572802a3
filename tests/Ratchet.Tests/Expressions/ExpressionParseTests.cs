using System.Text.Json;
using Ratchet.Expressions;

namespace Ratchet.Tests.Expressions;

public sealed class ExpressionParseTests
{
    [Theory]
    [InlineData("42", 42.0, "42")]
    [InlineData("0", 0.0, "0")]
    [InlineData("-7", -7.0, "-7")]
    [InlineData("1.5", 1.5, "1.5")]
    [InlineData("1.50", 1.5, "1.50")]
    [InlineData("2e3", 2000.0, "2e3")]
    [InlineData("2E3", 2000.0, "2E3")]
    [InlineData("1E-2", 0.01, "1E-2")]
    [InlineData("1.5e+2", 150.0, "1.5e+2")]
    [InlineData("0.25", 0.25, "0.25")]
    [InlineData("-0.5", -0.5, "-0.5")]
    public void Parse_NumberLiteral_FollowsJsonSyntaxAndKeepsItsText(string text, double expected, string rendered)
    {
        var expression = Expression.Parse(text);

        var value = expression.Evaluate(default);

        Assert.Equal(JsonValueKind.Number, value.ValueKind);
        Assert.Equal(expected, value.GetDouble());
        Assert.Equal(rendered, expression.EvaluateString(default));
    }

    [Fact]
    public void Parse_NegativeLiteralBeyondDoublePrecision_StaysExact()
    {
        var value = Expression.Parse("-9007199254740993").Evaluate(default);

        Assert.Equal("-9007199254740993", value.GetRawText());
        Assert.False(Expression.Parse("-9007199254740993 == -9007199254740992").EvaluateBoolean(default));
    }

    [Theory]
    [InlineData("'single'", "single")]
    [InlineData("\"double\"", "double")]
    [InlineData("''", "")]
    [InlineData("\"\"", "")]
    [InlineData("'it\\'s'", "it's")]
    [InlineData("\"it's\"", "it's")]
    [InlineData("'say \"hi\"'", "say \"hi\"")]
    [InlineData("\"say \\\"hi\\\"\"", "say \"hi\"")]
    [InlineData("'a\\\\b'", "a\\b")]
    [InlineData("'a\\/b'", "a/b")]
    [InlineData("'1\\n2\\r3\\t4\\b5\\f6'", "1\n2\r3\t4\b5\f6")]
    [InlineData("'caf\\u00e9'", "café")]
    [InlineData("'\\u00C9t\\u00e9'", "Été")]
    [InlineData("'\\ud83d\\ude00'", "😀")]
    [InlineData("'}} and {{'", "}} and {{")]
    [InlineData("'raw\nnewline'", "raw\nnewline")]
    public void Parse_StringLiteral_DecodesQuotesAndEscapes(string text, string expected)
    {
        var expression = Expression.Parse(text);

        Assert.Equal(expected, expression.EvaluateString(default));
        var value = expression.Evaluate(default);
        Assert.Equal(JsonValueKind.String, value.ValueKind);
        Assert.Equal(expected, value.GetString());
    }

    [Theory]
    [InlineData("true", JsonValueKind.True)]
    [InlineData("false", JsonValueKind.False)]
    [InlineData("null", JsonValueKind.Null)]
    [InlineData("  true  ", JsonValueKind.True)]
    [InlineData("\n\tnull\r\n", JsonValueKind.Null)]
    public void Parse_KeywordLiteral_EvaluatesToJsonValue(string text, JsonValueKind expected)
    {
        Assert.Equal(expected, Expression.Parse(text).Evaluate(default).ValueKind);
    }

    [Fact]
    public void Parse_Expression_KeepsTextAndListsRootsOnceInOrder()
    {
        var expression = Expression.Parse("output.a == inputs.b and output.c != workflow.id or len(x) > 0 and exists(inputs.d)");

        Assert.Equal("output.a == inputs.b and output.c != workflow.id or len(x) > 0 and exists(inputs.d)", expression.Text);
        Assert.Equal("output.a == inputs.b and output.c != workflow.id or len(x) > 0 and exists(inputs.d)", expression.ToString());
        Assert.Equal(["output", "inputs", "workflow", "x"], expression.RootNames);
    }

    [Fact]
    public void Parse_LiteralsOnly_HasNoRoots()
    {
        Assert.Empty(Expression.Parse("1 + 2 == 3 and lower('A') == 'a'").RootNames);
    }

    [Fact]
    public void Parse_Null_ThrowsArgumentNullException()
    {
        Assert.Throws<ArgumentNullException>(() => Expression.Parse(null!));
    }

    [Theory]
    [InlineData("", 0, "the expression is empty")]
    [InlineData("   ", 3, "the expression is empty")]
    [InlineData("output.status ==", 16, "expected a value after '==', found the end of the expression")]
    [InlineData("output.status == == 'x'", 17, "expected a value after '==', found '=='")]
    [InlineData("output.status = 'done'", 14, "'=' is not an operator; use '==' to compare")]
    [InlineData("(output.a == 1", 14, "expected ')' to close the '(' at position 0, found the end of the expression")]
    [InlineData("output.a)", 8, "expected an operator or the end of the expression, found ')'")]
    [InlineData("output.a b", 9, "expected an operator or the end of the expression, found 'b'")]
    [InlineData("'abc", 0, "the string that starts at position 0 is not closed; end it with '")]
    [InlineData("x == \"abc", 5, "the string that starts at position 5 is not closed; end it with \"")]
    [InlineData("'a\\qb'", 2, "unknown escape '\\q' in a string")]
    [InlineData("'\\u12'", 1, "'\\u' must be followed by four hexadecimal digits")]
    [InlineData("'\\ud800'", 0, "unpaired surrogate")]
    [InlineData("output.", 7, "expected a property name after '.', found the end of the expression")]
    [InlineData("output.items.0", 13, "expected a property name after '.', found the number 0; to index an array, write [0]")]
    [InlineData("output.items[1.5]", 13, "an array index must be a whole number")]
    [InlineData("output.items[-1]", 13, "expected an array index (a whole number from 0) or a quoted key after '[', found '-'")]
    [InlineData("output.items[0", 14, "expected ']' to close the '[' at position 12")]
    [InlineData("output.items[abc]", 13, "expected an array index (a whole number from 0) or a quoted key after '[', found 'abc'")]
    [InlineData("foo(1)", 0, "unknown function 'foo'; the functions are exists(path), len(x)")]
    [InlineData("x and Len(y)", 6, "unknown function 'Len'")]
    [InlineData("len(1, 2)", 0, "len() takes 1 argument, found 2")]
    [InlineData("contains('a')", 0, "contains() takes 2 arguments, found 1")]
    [InlineData("len()", 0, "len() takes 1 argument, found 0")]
    [InlineData("len(a,)", 6, "expected a value after ',', found ')'")]
    [InlineData("len(a b)", 6, "expected ',' or ')' in the call to len() opened at position 3, found 'b'")]
    [InlineData("lower(", 6, "expected a value after '(', found the end of the expression")]
    [InlineData("exists('x')", 7, "exists() takes a path")]
    [InlineData("exists(len(x))", 7, "exists() takes a path")]
    [InlineData("1 < 2 < 3", 6, "comparisons cannot be chained; combine them with 'and'")]
    [InlineData("a == b != c", 7, "comparisons cannot be chained")]
    [InlineData("output.a - 1", 9, "'-' between two values is not supported")]
    [InlineData("artifacts.run-tests.ok", 13, "write it in brackets, as in artifacts[\"run-tests\"]")]
    [InlineData("a & b", 2, "'&' is not an operator; use '&&' or 'and'")]
    [InlineData("a | b", 2, "'|' is not an operator; use '||' or 'or'")]
    [InlineData("a == #", 5, "unexpected character '#'")]
    [InlineData("a == {", 5, "unexpected character '{'")]
    [InlineData("output.é", 7, "unexpected character 'é'; names in paths are ASCII letters")]
    [InlineData("a ==\u0001", 4, "unexpected character U+0001")]
    [InlineData("07", 0, "a number cannot start with 0 followed by more digits")]
    [InlineData("1e", 2, "expected digits for the exponent of the number")]
    [InlineData("1e+x", 3, "expected digits for the exponent of the number")]
    [InlineData("1e400", 0, "the number 1e400 is too large")]
    [InlineData("-1e400", 1, "the number -1e400 is too large")]
    [InlineData(".5", 0, "expected a value, found '.'")]
    [InlineData("and x", 0, "expected a value, found 'and'")]
    [InlineData("a == not b", 5, "expected a value after '==', found 'not'; put 'not' in parentheses")]
    [InlineData("'abc'.length", 5, "expected an operator or the end of the expression, found '.'; only paths that start with a name")]
    [InlineData("(a).b", 3, "expected an operator or the end of the expression, found '.'; only paths that start with a name")]
    [InlineData("a }}", 2, "unexpected character '}'")]
    public void Parse_MalformedInput_ThrowsWithPositionAndQuotedText(string text, int position, string reason)
    {
        var exception = Assert.Throws<ExpressionException>(() => Expression.Parse(text));

        Assert.Equal(position, exception.Position);
        Assert.Contains(reason, exception.Reason, StringComparison.Ordinal);
        Assert.Equal(text, exception.ExpressionText);
        Assert.False(exception.IsEvaluationError);
        Assert.Null(exception.Field);
        Assert.Equal("invalid-expression", exception.ErrorCode);
        Assert.False(exception.IsTransient);
        Assert.IsAssignableFrom<RatchetException>(exception);
        Assert.Equal($"The expression \"{text}\" is invalid at position {position}: {exception.Reason}.", exception.Message);
    }

    [Fact]
    public void Parse_ErrorMessage_ReadsAsOneSentenceWithPositionAndExpectation()
    {
        var exception = Assert.Throws<ExpressionException>(() => Expression.Parse("output.status =="));

        Assert.Equal(
            "The expression \"output.status ==\" is invalid at position 16: expected a value after '==', found the end of the expression.",
            exception.Message);
    }

    [Fact]
    public void Parse_LongExpressionError_QuotesAnExcerptAroundThePosition()
    {
        var text = string.Concat(Enumerable.Repeat("output.a == 1 and ", 20)) + "output.b ==";

        var exception = Assert.Throws<ExpressionException>(() => Expression.Parse(text));

        Assert.Equal(text.Length, exception.Position);
        Assert.Contains("\"…", exception.Message, StringComparison.Ordinal);
        Assert.Contains("output.b ==\"", exception.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(text, exception.Message, StringComparison.Ordinal);
        Assert.Equal(text, exception.ExpressionText);
    }

    [Fact]
    public void Parse_MultiLineExpressionError_GivesLineAndColumn()
    {
        var exception = Assert.Throws<ExpressionException>(() => Expression.Parse("output.a == 1\nand output.b =="));

        Assert.Equal(29, exception.Position);
        Assert.Contains("at position 29 (line 2, column 16): expected a value after '=='", exception.Message, StringComparison.Ordinal);
        Assert.Contains("\"…and output.b ==\"", exception.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_NestingAtTheLimit_Parses()
    {
        var depth = Expression.MaxNestingDepth;
        var text = new string('(', depth) + "1" + new string(')', depth);

        Assert.Equal(1, Expression.Parse(text).Evaluate(default).GetDouble());
    }

    [Fact]
    public void Parse_NestingBeyondTheLimit_IsRefusedAtTheLevelThatExceedsIt()
    {
        var depth = Expression.MaxNestingDepth + 1;
        var text = new string('(', depth) + "1" + new string(')', depth);

        var exception = Assert.Throws<ExpressionException>(() => Expression.Parse(text));

        Assert.Equal(Expression.MaxNestingDepth, exception.Position);
        Assert.Contains("nests more than 64 levels deep", exception.Reason, StringComparison.Ordinal);
    }

    public static TheoryData<string> HugelyNested => new()
    {
        new string('(', 200_000) + "1" + new string(')', 200_000),
        string.Concat(Enumerable.Repeat("not ", 200_000)) + "true",
        new string('!', 200_000) + "true",
        new string('-', 200_000) + "x",
        string.Concat(Enumerable.Repeat("- ", 200_000)) + "1",
        string.Concat(Enumerable.Repeat("len(", 200_000)) + "1" + new string(')', 200_000),
        string.Concat(Enumerable.Repeat("a == (", 200_000)),
    };

    [Theory]
    [MemberData(nameof(HugelyNested))]
    public void Parse_HugelyNestedInput_IsRefusedWithoutOverflowingTheStack(string text)
    {
        var exception = Assert.Throws<ExpressionException>(() => Expression.Parse(text));

        Assert.Contains("nests more than 64 levels deep", exception.Reason, StringComparison.Ordinal);
        Assert.InRange(exception.Position, Expression.MaxNestingDepth, Expression.MaxNestingDepth * 8);
    }

    [Fact]
    public void Parse_LongFlatChains_ParseAndEvaluateWithoutNesting()
    {
        const int Terms = 50_000;

        var sum = Expression.Parse(string.Join(" + ", Enumerable.Repeat("1", Terms)));
        var conjunction = Expression.Parse(string.Join(" and ", Enumerable.Repeat("v", Terms)));
        var disjunction = Expression.Parse(string.Join(" || ", Enumerable.Repeat("v", Terms - 1)) + " || true");
        var path = Expression.Parse("v" + string.Concat(Enumerable.Repeat(".a", Terms)));

        Assert.Equal(Terms, sum.Evaluate(default).GetDouble());
        Assert.True(conjunction.EvaluateBoolean(Scopes.WithValue("1")));
        Assert.False(conjunction.EvaluateBoolean(Scopes.WithValue("0")));
        Assert.True(disjunction.EvaluateBoolean(Scopes.WithValue("0")));
        Assert.Equal(JsonValueKind.Null, path.Evaluate(Scopes.WithValue("{}")).ValueKind);
    }
}
