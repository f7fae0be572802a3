using System.Text.Json;

namespace Ratchet.Expressions;

/// <summary>
/// Builds a JSON object from one expression per field, for example a trigger's mapping of a finished workflow's
/// output into the next workflow's inputs: <c>{ "issue": "output.issue", "title": "'Fix: ' + output.title" }</c>.
/// Parse once with <see cref="Parse"/>; an instance is immutable and safe to share between threads.
/// </summary>
internal sealed class ObjectTransform
{
    private readonly KeyValuePair<string, Expression>[] _fields;

    private ObjectTransform(KeyValuePair<string, Expression>[] fields)
    {
        _fields = fields;
        Fields = Array.AsReadOnly(fields);
    }

    /// <summary>The fields and their expressions, in the order given to <see cref="Parse"/>.</summary>
    public IReadOnlyList<KeyValuePair<string, Expression>> Fields { get; }

    /// <summary>Parses one expression per field.</summary>
    /// <param name="fieldExpressions">Field name → expression text; the result has the fields in this dictionary's enumeration order.</param>
    /// <exception cref="ArgumentNullException"><paramref name="fieldExpressions"/> is null.</exception>
    /// <exception cref="ArgumentException">A field's expression text is null.</exception>
    /// <exception cref="ExpressionException">A field's expression is invalid; <see cref="ExpressionException.Field"/> and the message name the field.</exception>
    public static ObjectTransform Parse(IReadOnlyDictionary<string, string> fieldExpressions)
    {
        ArgumentNullException.ThrowIfNull(fieldExpressions);
        var fields = new KeyValuePair<string, Expression>[fieldExpressions.Count];
        var i = 0;
        foreach (var (field, text) in fieldExpressions)
        {
            if (text is null)
            {
                throw new ArgumentException($"The expression of transform field '{field}' is null; give every field an expression.", nameof(fieldExpressions));
            }

            try
            {
                fields[i++] = new(field, Expression.Parse(text));
            }
            catch (ExpressionException exception)
            {
                throw exception.InField(field);
            }
        }

        return new ObjectTransform(fields);
    }

    /// <summary>
    /// Evaluates every field into a new JSON object (independent of <paramref name="scope"/>'s document). A field
    /// whose path leads nowhere is null.
    /// </summary>
    /// <param name="scope">A JSON object whose properties are the roots (<c>output</c>, <c>workflow</c>, ...).</param>
    /// <exception cref="ArgumentException"><paramref name="scope"/> is neither an object nor null.</exception>
    /// <exception cref="ExpressionException">A field's expression failed; <see cref="ExpressionException.Field"/> and the message name the field.</exception>
    public JsonElement Evaluate(JsonElement scope)
    {
        // Evaluate every field before writing any, so a failure leaves no half-built document behind.
        var values = new Value[_fields.Length];
        for (var i = 0; i < _fields.Length; i++)
        {
            var (field, expression) = _fields[i];
            try
            {
                values[i] = expression.EvaluateValue(scope);
            }
            catch (ExpressionException exception)
            {
                throw exception.InField(field);
            }
        }

        return Value.BuildElement((Fields: _fields, Values: values), static (writer, state) =>
        {
            writer.WriteStartObject();
            for (var i = 0; i < state.Fields.Length; i++)
            {
                writer.WritePropertyName(state.Fields[i].Key);
                state.Values[i].WriteTo(writer);
            }

            writer.WriteEndObject();
        });
    }
}
