using System.Globalization;
using System.Text;

namespace Ratchet.Expressions;

/// <summary>
/// An expression, template or transform that cannot be parsed, or that fails while it is evaluated (comparing a
/// string with a number using <c>&lt;</c>, indexing something that is not an array, ...). The message quotes the
/// text, gives the position and says what was expected.
/// </summary>
public sealed class ExpressionException : RatchetException
{
    private const int MaxQuotedLength = 120;
    private const int ExcerptRadius = 30;

    private ExpressionException(string message, string expressionText, int position, string reason, string? field, bool isEvaluationError, Exception? innerException)
        : base(message, innerException)
    {
        ExpressionText = expressionText;
        Position = position;
        Reason = reason;
        Field = field;
        IsEvaluationError = isEvaluationError;
    }

    /// <summary>The text the position refers to: the expression, or the whole template for an error inside a template.</summary>
    public string ExpressionText { get; }

    /// <summary>The 0-based offset into <see cref="ExpressionText"/> where the problem is.</summary>
    public int Position { get; }

    /// <summary>What is wrong, without the quoted text and position, for example <c>expected a value after '=='</c>.</summary>
    public string Reason { get; }

    /// <summary>The field of an <see cref="ObjectTransform"/> whose expression failed; null outside transforms.</summary>
    public string? Field { get; }

    /// <summary>True when the text parsed but failed while evaluated against a scope; false for a syntax error.</summary>
    public bool IsEvaluationError { get; }

    /// <inheritdoc />
    public override string ErrorCode => "invalid-expression";

    internal static ExpressionException Syntax(string text, int position, string reason, bool isTemplate) =>
        Create(text, position, reason, isTemplate, isEvaluationError: false);

    internal static ExpressionException Evaluation(string text, int position, string reason, bool isTemplate) =>
        Create(text, position, reason, isTemplate, isEvaluationError: true);

    /// <summary>The same error, said to be in a transform's field.</summary>
    internal ExpressionException InField(string field) =>
        new(
            $"In transform field '{field}', {char.ToLowerInvariant(Message[0])}{Message[1..]}",
            ExpressionText,
            Position,
            Reason,
            field,
            IsEvaluationError,
            this);

    private static ExpressionException Create(string text, int position, string reason, bool isTemplate, bool isEvaluationError)
    {
        var message = new StringBuilder(text.Length + reason.Length + 64);
        message.Append(isTemplate ? "The template " : "The expression ");
        AppendQuoted(message, text, position);
        message.Append(isEvaluationError ? " could not be evaluated at position " : " is invalid at position ")
            .Append(position.ToString(CultureInfo.InvariantCulture));
        if (text.Contains('\n', StringComparison.Ordinal))
        {
            var (line, column) = LineAndColumn(text, position);
            message.Append(CultureInfo.InvariantCulture, $" (line {line}, column {column})");
        }

        message.Append(": ").Append(reason).Append('.');
        return new ExpressionException(message.ToString(), text, position, reason, field: null, isEvaluationError, innerException: null);
    }

    // Short one-line texts are quoted whole; long or multi-line ones (a `run: |` script) are quoted around the
    // position only, so that the CLI's one-line error stays readable.
    private static void AppendQuoted(StringBuilder message, string text, int position)
    {
        if (text.Length <= MaxQuotedLength && text.AsSpan().IndexOfAny('\n', '\r') < 0)
        {
            message.Append('"').Append(text).Append('"');
            return;
        }

        var lineStart = position > 0 ? text.AsSpan(0, Math.Min(position, text.Length)).LastIndexOfAny('\n', '\r') + 1 : 0;
        var lineEnd = text.AsSpan(lineStart).IndexOfAny('\n', '\r');
        lineEnd = lineEnd < 0 ? text.Length : lineStart + lineEnd;
        var start = Math.Max(lineStart, position - ExcerptRadius);
        var end = Math.Min(lineEnd, Math.Max(position, start) + ExcerptRadius);
        message.Append('"');
        if (start > 0)
        {
            message.Append('…');
        }

        message.Append(text, start, end - start);
        if (end < text.Length)
        {
            message.Append('…');
        }

        message.Append('"');
    }

    private static (int Line, int Column) LineAndColumn(string text, int position)
    {
        var line = 1;
        var lineStart = 0;
        for (var i = 0; i < position && i < text.Length; i++)
        {
            if (text[i] == '\n')
            {
                line++;
                lineStart = i + 1;
            }
        }

        return (line, position - lineStart + 1);
    }
}
