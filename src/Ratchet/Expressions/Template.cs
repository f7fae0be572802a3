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
    private ShellHole[]? _shellHoles;

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
    /// The holes that <see cref="RenderForShell"/> refuses, one exception each (its <see cref="ExpressionException.Position"/>
    /// is the hole's offset): holes inside single quotes, backquotes, <c>${...}</c>, arithmetic, a comment, the body of a
    /// here-document whose delimiter is not quoted, a here-document's delimiter, or right after a backslash or <c>$</c>.
    /// Empty when every hole can be rendered safely. Check a command template with this when it is written (a workflow
    /// file is refused at parse time), rather than when it first runs.
    /// </summary>
    public IReadOnlyList<ExpressionException> FindShellProblems()
    {
        var holes = ShellHoles;
        var problems = new List<ExpressionException>();
        for (var i = 0; i < holes.Length; i++)
        {
            if (holes[i] is { Kind: ShellHoleKind.Refused, Problem: { } problem })
            {
                problems.Add(ShellProblem(i, problem));
            }
        }

        return problems;
    }

    /// <summary>
    /// Renders the template as a POSIX <c>sh</c> command line: literal text as written (it is the command), and each
    /// hole's value written for where it stands, so that the shell takes it as exactly the text it is and runs none of
    /// it (<c>'; rm -rf /</c>, <c>$(...)</c>, backquotes, <c>$HOME</c> and newlines stay text):
    /// <list type="bullet">
    /// <item>outside quotes (also inside <c>$(...)</c>): in single quotes, every <c>'</c> written as <c>'\''</c>, so the
    /// value is one word (an empty value is the empty word <c>''</c>); glued to text, as in <c>--id={{ workflow.id }}</c>,
    /// it joins that word;</item>
    /// <item>inside double quotes: with <c>\</c>, <c>"</c>, <c>$</c> and <c>`</c> escaped by a backslash;</item>
    /// <item>in the body of a here-document with a quoted delimiter (<c>&lt;&lt;'EOF'</c>): as it is, refused if a line of
    /// it would end the here-document.</item>
    /// </list>
    /// Anywhere else (see <see cref="FindShellProblems"/>) the template is refused.
    /// </summary>
    /// <param name="scope">A JSON object whose properties are the roots.</param>
    /// <exception cref="ArgumentException"><paramref name="scope"/> is neither an object nor null.</exception>
    /// <exception cref="ExpressionException">
    /// A hole stands where no writing of its value is safe, a hole's expression failed, its value contains a NUL
    /// character (which no command line can carry), or a value in a here-document holds a line that would end it.
    /// </exception>
    public string RenderForShell(JsonElement scope)
    {
        if (_holes.Length == 0)
        {
            return _literals[0];
        }

        var holes = ShellHoles;
        for (var i = 0; i < holes.Length; i++)
        {
            if (holes[i] is { Kind: ShellHoleKind.Refused, Problem: { } problem })
            {
                throw ShellProblem(i, problem);
            }
        }

        var result = new StringBuilder(Text.Length + (_holes.Length * 18));
        List<(int Hole, int Start, int End)>? heredocValues = null;
        for (var i = 0; i < _holes.Length; i++)
        {
            result.Append(_literals[i]);
            var value = _holes[i].EvaluateString(scope);
            if (value.Contains('\0', StringComparison.Ordinal))
            {
                throw ExpressionException.Evaluation(Text, _holePositions[i],
                    $"the value of '{_holes[i].Text}' contains a NUL character, which a shell command line cannot carry", isTemplate: true);
            }

            switch (holes[i].Kind)
            {
                case ShellHoleKind.DoubleQuoted:
                    AppendDoubleQuoted(result, value);
                    break;
                case ShellHoleKind.QuotedHeredoc:
                    (heredocValues ??= []).Add((i, result.Length, result.Length + value.Length));
                    result.Append(value);
                    break;
                default:
                    AppendShellQuoted(result, value);
                    break;
            }
        }

        result.Append(_literals[^1]);
        var rendered = result.ToString();
        foreach (var (hole, start, end) in heredocValues ?? [])
        {
            CheckHeredocLines(rendered, hole, start, end, holes[hole]);
        }

        return rendered;
    }

    /// <summary>The template's text.</summary>
    public override string ToString() => Text;

    private ShellHole[] ShellHoles => _shellHoles ??= ShellContextScanner.Scan(_literals);

    private ExpressionException ShellProblem(int hole, string problem) =>
        ExpressionException.Syntax(Text, _holePositions[hole], $"'{{{{ {_holes[hole].Text} }}}}' {problem}; or pass the value in an env: variable and write \"$NAME\", or read it from the state on standard input", isTemplate: true);

    /// <summary>
    /// The lines of the rendered command that hold part of a value in a here-document: none may be the delimiter,
    /// which would end the here-document there and run the rest of the value as commands.
    /// </summary>
    private void CheckHeredocLines(string rendered, int hole, int start, int end, ShellHole context)
    {
        var lineStart = start > 0 ? rendered.LastIndexOf('\n', start - 1) + 1 : 0;
        while (lineStart <= end && lineStart <= rendered.Length)
        {
            var lineEnd = rendered.IndexOf('\n', lineStart);
            lineEnd = lineEnd < 0 ? rendered.Length : lineEnd;
            var line = rendered.AsSpan(lineStart, lineEnd - lineStart);
            if ((context.StripTabs ? line.TrimStart('\t') : line).SequenceEqual(context.Delimiter))
            {
                throw ExpressionException.Evaluation(Text, _holePositions[hole],
                    $"the value of '{{{{ {_holes[hole].Text} }}}}' makes a line '{context.Delimiter}', which would end the here-document early and run the rest as commands",
                    isTemplate: true);
            }

            lineStart = lineEnd + 1;
        }
    }

    private static void AppendDoubleQuoted(StringBuilder result, string value)
    {
        // Inside double quotes these four are the only characters the shell acts on; a backslash makes each literal.
        foreach (var c in value)
        {
            if (c is '\\' or '"' or '$' or '`')
            {
                result.Append('\\');
            }

            result.Append(c);
        }
    }

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
