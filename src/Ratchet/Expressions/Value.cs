using System.Buffers;
using System.Globalization;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace Ratchet.Expressions;

/// <summary>The kinds of value an expression works with. <see cref="Missing"/> is a path that leads nowhere; it behaves as null except in <c>exists()</c>.</summary>
internal enum ValueKind : byte
{
    Missing,
    Null,
    False,
    True,
    Number,
    String,
    Array,
    Object,
}

/// <summary>
/// A value during evaluation: either a view of a JSON element (from the scope or a literal) or a computed number or
/// string. A struct, so that evaluating a condition over the scope allocates nothing.
/// </summary>
internal readonly struct Value
{
    private static readonly JsonWriterOptions CompactWriterOptions = new()
    {
        // The JSON is shown to people and passed to commands, never embedded in HTML: keep ' and non-ASCII readable.
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        Indented = false,
    };

    private static readonly JsonElement NullElement = ParseElement("null"u8);
    private static readonly JsonElement TrueElement = ParseElement("true"u8);
    private static readonly JsonElement FalseElement = ParseElement("false"u8);

    private readonly JsonElement _element;
    private readonly string? _string;
    private readonly double _number;
    private readonly bool _hasElement;

    private Value(ValueKind kind, JsonElement element, string? text, double number, bool hasElement)
    {
        Kind = kind;
        _element = element;
        _string = text;
        _number = number;
        _hasElement = hasElement;
    }

    public static Value Missing => default;

    public static Value Null => new(ValueKind.Null, default, null, 0, hasElement: false);

    public static Value True => new(ValueKind.True, default, null, 0, hasElement: false);

    public static Value False => new(ValueKind.False, default, null, 0, hasElement: false);

    public ValueKind Kind { get; }

    public bool IsNull => Kind <= ValueKind.Null;

    public static Value FromBoolean(bool value) => value ? True : False;

    // -0 is shown as "0": the sign of zero is an artefact of arithmetic, not something a user meant.
    public static Value FromNumber(double value) =>
        new(ValueKind.Number, default, null, value == 0 ? 0 : value, hasElement: false);

    public static Value FromString(string value) => new(ValueKind.String, default, value, 0, hasElement: false);

    /// <summary>A literal string: the text for comparisons and the element for results, both made once at parse time.</summary>
    public static Value FromLiteralString(string value) =>
        new(ValueKind.String, CreateElement(FromString(value)), value, 0, hasElement: true);

    public static Value FromElement(JsonElement element) => element.ValueKind switch
    {
        JsonValueKind.Null => Null,
        JsonValueKind.True => True,
        JsonValueKind.False => False,
        JsonValueKind.Number => new(ValueKind.Number, element, null, 0, hasElement: true),
        JsonValueKind.String => new(ValueKind.String, element, null, 0, hasElement: true),
        JsonValueKind.Array => new(ValueKind.Array, element, null, 0, hasElement: true),
        JsonValueKind.Object => new(ValueKind.Object, element, null, 0, hasElement: true),
        _ => Missing,
    };

    /// <summary>The element behind an array or object (always element-backed).</summary>
    public JsonElement Element => _element;

    /// <summary>The number, or false when a JSON number is too large for a double.</summary>
    public bool TryGetNumber(out double number)
    {
        if (!_hasElement)
        {
            number = _number;
            return true;
        }

        // TryGetDouble gives infinity for a number beyond double's range; infinity is not a JSON value, so refuse it.
        return _element.TryGetDouble(out number) && double.IsFinite(number);
    }

    public string GetString() => _string ?? _element.GetString()!;

    /// <summary>Truthiness: null, missing, false, 0, "", [] and {} are false; everything else is true.</summary>
    public bool IsTruthy()
    {
        switch (Kind)
        {
            case ValueKind.True:
                return true;
            case ValueKind.Number:
                return !TryGetNumber(out var number) || number != 0;
            case ValueKind.String:
                return _string is not null ? _string.Length > 0 : !_element.ValueEquals(ReadOnlySpan<byte>.Empty);
            case ValueKind.Array:
                return _element.GetArrayLength() > 0;
            case ValueKind.Object:
                var properties = _element.EnumerateObject();
                return properties.MoveNext();
            default:
                return false;
        }
    }

    /// <summary>
    /// JSON-value equality: null equals missing; numbers by value (two JSON numbers exactly, otherwise as doubles);
    /// strings ordinally; arrays and objects deeply. Values of different kinds are never equal.
    /// </summary>
    public static bool JsonEquals(in Value left, in Value right)
    {
        if (left.IsNull || right.IsNull)
        {
            return left.IsNull && right.IsNull;
        }

        if (left.Kind != right.Kind)
        {
            return false;
        }

        switch (left.Kind)
        {
            case ValueKind.Number:
                if (left._hasElement && right._hasElement)
                {
                    return JsonElement.DeepEquals(left._element, right._element);
                }

                return left.TryGetNumber(out var a) && right.TryGetNumber(out var b) && a == b;
            case ValueKind.String:
                if (left._string is not null && right._string is not null)
                {
                    return string.Equals(left._string, right._string, StringComparison.Ordinal);
                }

                if (left._string is not null)
                {
                    return right._element.ValueEquals(left._string);
                }

                return right._string is not null
                    ? left._element.ValueEquals(right._string)
                    : JsonElement.DeepEquals(left._element, right._element);
            case ValueKind.Array:
            case ValueKind.Object:
                return JsonElement.DeepEquals(left._element, right._element);
            default:
                return true; // both true or both false
        }
    }

    /// <summary>
    /// The text form: strings as they are, numbers as written in JSON (computed ones in the shortest invariant form),
    /// true/false, null and missing as "", arrays and objects as compact JSON.
    /// </summary>
    public string ToDisplayString() => Kind switch
    {
        ValueKind.String => GetString(),
        ValueKind.Number => _hasElement ? _element.GetRawText() : _number.ToString(CultureInfo.InvariantCulture),
        ValueKind.True => "true",
        ValueKind.False => "false",
        ValueKind.Array or ValueKind.Object => CompactJson(_element),
        _ => "",
    };

    /// <summary>The value as a JSON element (the scope's own element when it came from the scope).</summary>
    public JsonElement ToElement() => _hasElement ? _element : Kind switch
    {
        ValueKind.True => TrueElement,
        ValueKind.False => FalseElement,
        ValueKind.Number or ValueKind.String => CreateElement(this),
        _ => NullElement,
    };

    public void WriteTo(Utf8JsonWriter writer)
    {
        if (_hasElement)
        {
            _element.WriteTo(writer);
            return;
        }

        switch (Kind)
        {
            case ValueKind.True:
                writer.WriteBooleanValue(true);
                break;
            case ValueKind.False:
                writer.WriteBooleanValue(false);
                break;
            case ValueKind.Number:
                writer.WriteNumberValue(_number);
                break;
            case ValueKind.String:
                writer.WriteStringValue(_string);
                break;
            default:
                writer.WriteNullValue();
                break;
        }
    }

    /// <summary>"a string", "an array", ... for messages.</summary>
    public string DescribeKind() => Kind switch
    {
        ValueKind.Missing => "a missing value (null)",
        ValueKind.Null => "null",
        ValueKind.True or ValueKind.False => "a boolean",
        ValueKind.Number => "a number",
        ValueKind.String => "a string",
        ValueKind.Array => "an array",
        _ => "an object",
    };

    /// <summary>Writes values into a new JSON element that does not depend on any pooled buffer.</summary>
    public static JsonElement BuildElement<TState>(TState state, Action<Utf8JsonWriter, TState> write)
    {
        var buffer = new ArrayBufferWriter<byte>(64);
        using (var writer = new Utf8JsonWriter(buffer, CompactWriterOptions))
        {
            write(writer, state);
        }

        return ParseElement(buffer.WrittenSpan);
    }

    public static JsonElement ParseElement(ReadOnlySpan<byte> utf8Json) => Serialization.RatchetJson.ParseDocument(utf8Json);

    private static JsonElement CreateElement(Value value) => BuildElement(value, static (writer, v) => v.WriteTo(writer));

    private static string CompactJson(JsonElement element)
    {
        var buffer = new ArrayBufferWriter<byte>(256);
        using (var writer = new Utf8JsonWriter(buffer, CompactWriterOptions))
        {
            element.WriteTo(writer);
        }

        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }
}
