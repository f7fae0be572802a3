using System.Globalization;

namespace Ratchet.Expressions;

/// <summary>The built-in functions. There are no others: an unknown name is refused when the expression is parsed.</summary>
internal enum Function
{
    Exists,
    Len,
    Contains,
    Lower,
    Upper,
    String,
    Number,
}

internal static class Functions
{
    public const string Names = "exists(path), len(x), contains(haystack, needle), lower(s), upper(s), string(x), number(x)";

    public static bool TryGet(string name, out Function function, out int arity)
    {
        (function, arity) = name switch
        {
            "exists" => (Function.Exists, 1),
            "len" => (Function.Len, 1),
            "contains" => (Function.Contains, 2),
            "lower" => (Function.Lower, 1),
            "upper" => (Function.Upper, 1),
            "string" => (Function.String, 1),
            "number" => (Function.Number, 1),
            _ => (Function.Exists, -1),
        };
        return arity >= 0;
    }
}

internal sealed class CallNode(int position, string name, Function function, Node[] arguments) : Node(position)
{
    private const int MaxQuotedValueLength = 40;

    public override Value Evaluate(in EvaluationContext context)
    {
        switch (function)
        {
            case Function.Exists:
                // The parser only lets a path in here.
                return Value.FromBoolean(((PathNode)arguments[0]).Resolve(context, lenient: true).Kind != ValueKind.Missing);
            case Function.Len:
                return Len(arguments[0].Evaluate(context), context);
            case Function.Contains:
                return Contains(arguments[0].Evaluate(context), arguments[1].Evaluate(context), context);
            case Function.Lower:
            case Function.Upper:
                var text = arguments[0].Evaluate(context);
                if (text.IsNull)
                {
                    return Value.Null;
                }

                if (text.Kind != ValueKind.String)
                {
                    throw context.Error(Position, $"{name}() needs a string, found {text.DescribeKind()}; convert it with string() first");
                }

                return Value.FromString(function == Function.Lower ? text.GetString().ToLowerInvariant() : text.GetString().ToUpperInvariant());
            case Function.String:
                var value = arguments[0].Evaluate(context);
                return value.Kind == ValueKind.String ? value : Value.FromString(value.ToDisplayString());
            default:
                return ToNumber(arguments[0].Evaluate(context), context);
        }
    }

    private Value Len(in Value value, in EvaluationContext context)
    {
        var length = value.Kind switch
        {
            ValueKind.Missing or ValueKind.Null => 0,
            ValueKind.String => value.GetString().Length,
            ValueKind.Array => value.Element.GetArrayLength(),
            ValueKind.Object => CountProperties(value),
            _ => throw context.Error(Position, $"len() needs a string, an array or an object, found {value.DescribeKind()}"),
        };
        return Value.FromNumber(length);
    }

    private static int CountProperties(in Value value)
    {
        var count = 0;
        foreach (var unused in value.Element.EnumerateObject())
        {
            count++;
        }

        return count;
    }

    private Value Contains(in Value haystack, in Value needle, in EvaluationContext context)
    {
        switch (haystack.Kind)
        {
            case ValueKind.Missing or ValueKind.Null:
                return Value.False;
            case ValueKind.String:
                if (needle.Kind != ValueKind.String)
                {
                    throw context.Error(Position, $"contains() looks for text in a string, but was given {needle.DescribeKind()} to look for; convert it with string()");
                }

                return Value.FromBoolean(haystack.GetString().Contains(needle.GetString(), StringComparison.Ordinal));
            case ValueKind.Array:
                foreach (var element in haystack.Element.EnumerateArray())
                {
                    if (Value.JsonEquals(Value.FromElement(element), needle))
                    {
                        return Value.True;
                    }
                }

                return Value.False;
            default:
                throw context.Error(Position, $"contains() needs a string or an array to search, found {haystack.DescribeKind()} (use exists() to test for a property)");
        }
    }

    private Value ToNumber(in Value value, in EvaluationContext context)
    {
        switch (value.Kind)
        {
            case ValueKind.Missing or ValueKind.Null:
                return Value.Null;
            case ValueKind.Number:
                return value;
            case ValueKind.True:
                return Value.FromNumber(1);
            case ValueKind.False:
                return Value.FromNumber(0);
            case ValueKind.String:
                var text = value.GetString();
                if (double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var number) && double.IsFinite(number))
                {
                    return Value.FromNumber(number);
                }

                var quoted = text.Length > MaxQuotedValueLength ? string.Concat(text.AsSpan(0, MaxQuotedValueLength), "…") : text;
                throw context.Error(Position, $"number() cannot convert the string \"{quoted}\" to a number; it takes text such as \"42\", \"-1.5\" or \"2e3\"");
            default:
                throw context.Error(Position, $"number() cannot convert {value.DescribeKind()} to a number");
        }
    }
}
