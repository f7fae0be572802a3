using System.Globalization;
using System.Text;
using System.Text.Json;

namespace Ratchet.Expressions;

/// <summary>
/// Text with <c>{{ expression }}</c> holes, such as
/// <c>./plan.sh {{ inputs.issue }} --branch {{ artifacts.plan.branch }}</c>. Parse once with <see cref="Parse"/>,
/// render many times; an instance is immutable and safe to share between threads.
/// </summary>
/// <remarks>
/// <para>A hole holds one <see cref="Expression"/>; whitespace around it inside the braces is ignored, and a
/// string literal in it may contain <c>}}</c>. Each hole is replaced by the text of its value
/// (<see cref="Expression.EvaluateString"/>: null is empty, objects and arrays are compact JSON).</para>
/// <para>To write <c>{{</c> as text, write <c>{{{{</c> (or a hole holding the string: <c>{{ '{{' }}</c>).
/// A <c>}}</c> outside a hole is plain text and needs no escape. Nothing else is special: backslashes, quotes and
/// single braces are copied as written.</para>
/// </remarks>
public sealed class Template
{
    private readonly string[] _literals;
    private readonly Expression[] _holes;
    private readonly int[] _holePositions;

    private Template(string text, string[] literals, Expression[] holes, int[] holePositions)
    {
        Text = text;
        _literals = literals;
        _holes = holes;
        _holePositions = holePositions;
        Expressions = Array.AsReadOnly(holes);
    }

    /// <summary>The template as parsed.</summary>
    public string Text { get; }

    /// <summary>The holes' expressions, in order.</summary>
    public IReadOnlyList<Expression> Expressions { get; }

    /// <summary>Parses a template.</summary>
    /// <param name="text">The template text.</param>
    /// <exception cref="ArgumentNullException"><paramref name="text"/> is null.</exception>
    /// <exception cref="ExpressionException">A hole is not closed or holds an invalid expression; the position is an offset into the whole template.</exception>
    public static Template Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var literals = new List<string>();
        var holes = new List<Expression>();
        var positions = new List<int>();
        var literal = new StringBuilder();
        var position = 0;
        while (position < text.Length)
        {
            var open = text.IndexOf("{{", position, StringComparison.Ordinal);
            if (open < 0)
            {
                literal.Append(text, position, text.Length - position);
                break;
            }

            literal.Append(text, position, open - position);
            if (string.CompareOrdinal(text, open, "{{{{", 0, 4) == 0)
            {
                literal.Append("{{");
                position = open + 4;
                continue;
            }

            holes.Add(Parser.ParseHole(text, open, out position));
            positions.Add(open);
            literals.Add(literal.ToString());
            literal.Clear();
        }

        // literals[i] precedes holes[i]; the last literal follows the last hole.
        literals.Add(literal.ToString());
        return new Template(text, [.. literals], [.. holes], [.. positions]);
    }

    /// <summary>Renders the template: literal text as written, each hole replaced by the text of its value.</summary>
    /// <param name="scope">A JSON object whose properties are the roots (<c>inputs</c>, <c>artifacts</c>, <c>workflow</c>, ...).</param>
    /// <exception cref="ArgumentException"><paramref name="scope"/> is neither an object nor null.</exception>
    /// <exception cref="ExpressionException">A hole's expression failed; the position is an offset into the whole template.</exception>
    public string Render(JsonElement scope)
    {
        if (_holes.Length == 0)
        {
            return _literals[0];
        }

        var result = new StringBuilder(Text.Length + (_holes.Length * 16));
        for (var i = 0; i < _holes.Length; i++)
        {
            result.Append(_literals[i]).Append(_holes[i].EvaluateString(scope));
        }

        return result.Append(_literals[^1]).ToString();
    }

    /// <summary>
    /// Renders the template as a POSIX <c>sh</c> command line: literal text as written (it is the command), and
    /// each hole's value in single quotes, with every <c>'</c> in it written as <c>'\''</c>, so that the shell
    /// passes the value on as exactly the text it is (<c>'; rm -rf /</c> stays one literal argument, <c>$HOME</c>
    /// and backquotes are not expanded). An empty or null value becomes an empty argument <c>''</c>. Do not put
    /// quotes around holes in the template; glued to text, as in <c>--id={{ workflow.id }}</c>, a value joins
    /// that word.
    /// </summary>
    /// <param name="scope">A JSON object whose properties are the roots.</param>
    /// <exception cref="ArgumentException"><paramref name="scope"/> is neither an object nor null.</exception>
    /// <exception cref="ExpressionException">
    /// A hole's expression failed, or its value contains a NUL character, which no command-line argument can carry.
    /// </exception>
    public string RenderForShell(JsonElement scope)
    {
        if (_holes.Length == 0)
        {
            return _literals[0];
        }

        var result = new StringBuilder(Text.Length + (_holes.Length * 18));
        for (var i = 0; i < _holes.Length; i++)
        {
            result.Append(_literals[i]);
            var value = _holes[i].EvaluateString(scope);
            if (value.Contains('\0', StringComparison.Ordinal))
            {
                throw ExpressionException.Evaluation(
                    Text,
                    _holePositions[i],
                    string.Create(CultureInfo.InvariantCulture, $"the value of '{_holes[i].Text}' contains a NUL character, which a shell command line cannot carry"),
                    isTemplate: true);
            }

            AppendShellQuoted(result, value);
        }

        return result.Append(_literals[^1]).ToString();
    }

    /// <summary>The template's text.</summary>
    public override string ToString() => Text;

    private static void AppendShellQuoted(StringBuilder result, string value)
    {
        // Inside single quotes sh treats every character literally, except the closing quote itself; a quote in the
        // value ends the quoted part, adds an escaped quote and starts a new quoted part.
        result.Append('\'');
        var rest = value.AsSpan();
        int quote;
        while ((quote = rest.IndexOf('\'')) >= 0)
        {
            result.Append(rest[..quote]).Append("'\\''");
            rest = rest[(quote + 1)..];
        }

        result.Append(rest).Append('\'');
    }
}
