using System.Text.Json;

namespace Ratchet.Expressions;

/// <summary>
/// A parsed expression over JSON: workflow conditions (<c>output.status == 'done'</c>), template holes
/// (<c>artifacts.plan.branch</c>) and trigger transforms (<c>'Fix: ' + output.title</c>). Parse once with
/// <see cref="Parse"/>, then evaluate as often as needed; an instance is immutable and safe to share between threads.
/// </summary>
/// <remarks>
/// <para><b>Values</b> are JSON values: null, booleans, numbers, strings, arrays and objects.</para>
/// <para><b>Literals</b>: numbers in JSON's syntax (<c>42</c>, <c>-1.5</c>, <c>2e10</c>; no leading zeros, no
/// <c>.5</c>); strings in single or double quotes with the escapes <c>\\ \' \" \/ \n \r \t \b \f \uXXXX</c>;
/// <c>true</c>, <c>false</c>, <c>null</c>.</para>
/// <para><b>Paths</b> start with a root, a top-level property of the scope (<c>output</c>, <c>inputs</c>,
/// <c>artifacts</c>, <c>workflow</c>, ...), followed by any number of <c>.name</c>, <c>["any key"]</c> and
/// <c>[0]</c> steps: <c>artifacts.plan.files[0].path</c>, <c>output["exit-code"]</c>. Names after a dot are ASCII
/// letters, digits and <c>_</c> (keywords are allowed there: <c>output.not</c>); any other key goes in brackets.
/// A path that leads nowhere (a missing root or property, an index past the end, a step from null) is null, not an
/// error; a step into a value of the wrong kind (a property of a string, <c>[0]</c> of an object) is an error.</para>
/// <para><b>Operators</b>, loosest first: <c>or</c>/<c>||</c>; <c>and</c>/<c>&amp;&amp;</c>; <c>not</c>/<c>!</c>
/// (looser than comparisons, as in Python: <c>not a == b</c> is <c>not (a == b)</c>); the comparisons
/// <c>== != &lt; &lt;= &gt; &gt;=</c> (which do not chain: <c>a &lt; b &lt; c</c> is refused); <c>+</c> (left to
/// right: numbers add, and when either side is a string both sides are joined as text, see
/// <see cref="EvaluateString"/>); unary <c>-</c>. Parentheses group. <c>and</c>, <c>or</c> and <c>not</c> return
/// true or false (by truthiness, see <see cref="EvaluateBoolean"/>) and short-circuit. There is no subtraction,
/// multiplication or division.</para>
/// <para><b>Equality</b> (<c>==</c>, <c>!=</c>, <c>contains</c> on arrays) is JSON-value equality: null equals a
/// missing value; numbers compare by value (<c>1 == 1.0</c>; two JSON numbers exactly, digit for digit, computed
/// numbers as doubles); strings ordinally (case-sensitive); arrays and objects deeply; values of different kinds are
/// never equal (<c>1 == '1'</c> is false). <b>Ordering</b> (<c>&lt; &lt;= &gt; &gt;=</c>) compares two numbers, or two
/// strings ordinally; anything else (including null) is an error.</para>
/// <para><b>Functions</b>: <c>exists(path)</c> true when the path leads to a value, even a JSON null (never an
/// error); <c>len(x)</c> the length of a string (UTF-16 code units), array or object (its property count), 0 for
/// null; <c>contains(haystack, needle)</c> substring (ordinal) or array element (JSON equality), false for a null
/// haystack; <c>lower(s)</c>, <c>upper(s)</c> (invariant culture; null stays null); <c>string(x)</c> the text of
/// <see cref="EvaluateString"/>; <c>number(x)</c> numbers as they are, strings parsed in the invariant culture
/// (<c>"42"</c>, <c>"-1.5e3"</c>), true 1, false 0, null stays null. Unknown functions and wrong argument counts
/// are refused by <see cref="Parse"/>.</para>
/// <para><b>Limits</b>: nesting (parentheses, calls, <c>not</c>, unary <c>-</c>) is refused beyond
/// <see cref="MaxNestingDepth"/> levels; there are no loops, assignments or calls out of the engine.</para>
/// </remarks>
public sealed class Expression
{
    /// <summary>The deepest nesting of parentheses, function calls, <c>not</c> and unary <c>-</c> that parses.</summary>
    public const int MaxNestingDepth = 64;

    private readonly Node _root;
    private readonly string _source;
    private readonly bool _isTemplate;

    internal Expression(string text, string source, bool isTemplate, Node root, string[] rootNames)
    {
        Text = text;
        _source = source;
        _isTemplate = isTemplate;
        _root = root;
        RootNames = Array.AsReadOnly(rootNames);
    }

    /// <summary>The expression's text, as parsed (for a template hole: the text between the braces, trimmed).</summary>
    public string Text { get; }

    /// <summary>
    /// The roots the expression's paths start from, each once, in order of appearance (<c>output</c>,
    /// <c>inputs</c>, ...), so a caller can refuse roots its scope will not have.
    /// </summary>
    public IReadOnlyList<string> RootNames { get; }

    /// <summary>Parses an expression.</summary>
    /// <param name="text">The expression, for example <c>output.status == 'done' and len(output.files) &gt; 0</c>.</param>
    /// <exception cref="ArgumentNullException"><paramref name="text"/> is null.</exception>
    /// <exception cref="ExpressionException">The text is not a valid expression; the exception gives the position and what was expected there.</exception>
    public static Expression Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        return Parser.ParseExpression(text);
    }

    /// <summary>
    /// Evaluates the expression. The result may be an element of <paramref name="scope"/> itself; clone it
    /// (<see cref="JsonElement.Clone"/>) to keep it after the scope's document is disposed.
    /// </summary>
    /// <param name="scope">A JSON object whose properties are the roots (<c>output</c>, <c>inputs</c>, ...); <c>default</c> or null for none.</param>
    /// <returns>The value; a path that leads nowhere gives a JSON null.</returns>
    /// <exception cref="ArgumentException"><paramref name="scope"/> is neither an object nor null.</exception>
    /// <exception cref="ExpressionException">Evaluation failed (a type mismatch such as <c>'a' &lt; 1</c>).</exception>
    public JsonElement Evaluate(JsonElement scope) => EvaluateValue(scope).ToElement();

    /// <summary>
    /// Evaluates the expression as a condition. Truthiness: null (and a missing value), false, 0, the empty string,
    /// the empty array and the empty object are false; every other value is true (so the string "false" is true).
    /// </summary>
    /// <param name="scope">A JSON object whose properties are the roots; <c>default</c> or null for none.</param>
    /// <exception cref="ArgumentException"><paramref name="scope"/> is neither an object nor null.</exception>
    /// <exception cref="ExpressionException">Evaluation failed.</exception>
    public bool EvaluateBoolean(JsonElement scope) => EvaluateValue(scope).IsTruthy();

    /// <summary>
    /// Evaluates the expression as text: strings as they are; numbers as written in the JSON or the expression
    /// (computed ones in the shortest form that round-trips, invariant culture: <c>3</c>, <c>0.5</c>,
    /// <c>1E+21</c>); <c>true</c> and <c>false</c>; null and missing values as the empty string; arrays and objects as
    /// compact JSON (non-ASCII characters and quotes unescaped).
    /// </summary>
    /// <param name="scope">A JSON object whose properties are the roots; <c>default</c> or null for none.</param>
    /// <exception cref="ArgumentException"><paramref name="scope"/> is neither an object nor null.</exception>
    /// <exception cref="ExpressionException">Evaluation failed.</exception>
    public string EvaluateString(JsonElement scope) => EvaluateValue(scope).ToDisplayString();

    /// <summary>The expression's text.</summary>
    public override string ToString() => Text;

    internal Value EvaluateValue(JsonElement scope)
    {
        if (scope.ValueKind is not (JsonValueKind.Object or JsonValueKind.Undefined or JsonValueKind.Null))
        {
            throw new ArgumentException(
                $"The scope must be a JSON object whose properties are the roots (output, inputs, ...), but it is {scope.ValueKind}.",
                nameof(scope));
        }

        return _root.Evaluate(new EvaluationContext(scope, _source, _isTemplate));
    }
}
