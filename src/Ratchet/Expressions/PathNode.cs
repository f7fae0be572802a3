using System.Globalization;
using System.Text;
using System.Text.Json;

namespace Ratchet.Expressions;

/// <summary>One step of a path: <c>.name</c> or <c>["name"]</c> (a property), or <c>[3]</c> (an array element).</summary>
internal sealed class PathSegment
{
    private PathSegment(int position, string? name, int index)
    {
        Position = position;
        Name = name;
        Utf8Name = name is null ? null : Encoding.UTF8.GetBytes(name);
        Index = index;
    }

    /// <summary>The offset of the <c>.</c> or <c>[</c>.</summary>
    public int Position { get; }

    public string? Name { get; }

    // Looked up as UTF-8 so that reading a property does not transcode the name on every evaluation.
    public byte[]? Utf8Name { get; }

    public int Index { get; }

    public static PathSegment Property(int position, string name) => new(position, name, -1);

    public static PathSegment Element(int position, int index) => new(position, null, index);

    public string Describe() => Name is null ? $"[{Index.ToString(CultureInfo.InvariantCulture)}]" : $"'{Name}'";
}

/// <summary>
/// <c>root.a[0]["b-c"]</c>: a root of the scope followed by steps. A step from null or a missing value, a missing
/// property and an index past the end give a missing value (which is null); a step into a value of the wrong type
/// (a property of a string, an index of an object) is an error, except inside <c>exists()</c>.
/// </summary>
internal sealed class PathNode(int position, string root, PathSegment[] segments) : Node(position)
{
    private readonly byte[] _utf8Root = Encoding.UTF8.GetBytes(root);

    public override Value Evaluate(in EvaluationContext context) => Resolve(context, lenient: false);

    /// <summary>Follows the path; when <paramref name="lenient"/>, a step of the wrong type gives a missing value instead of an error.</summary>
    public Value Resolve(in EvaluationContext context, bool lenient)
    {
        var scope = context.Scope;
        var current = scope.ValueKind == JsonValueKind.Object && scope.TryGetProperty(_utf8Root, out var rootElement)
            ? Value.FromElement(rootElement)
            : Value.Missing;

        foreach (var segment in segments)
        {
            if (current.IsNull)
            {
                return Value.Missing;
            }

            if (segment.Utf8Name is { } name)
            {
                if (current.Kind == ValueKind.Object)
                {
                    current = current.Element.TryGetProperty(name, out var property) ? Value.FromElement(property) : Value.Missing;
                    continue;
                }

                if (lenient)
                {
                    return Value.Missing;
                }

                var hint = current.Kind == ValueKind.Array ? " (use [n] to index an array, or len() for its length)" : "";
                throw context.Error(segment.Position, $"cannot read property {segment.Describe()} of {current.DescribeKind()}; only objects have properties{hint}");
            }

            if (current.Kind == ValueKind.Array)
            {
                var array = current.Element;
                current = segment.Index < array.GetArrayLength() ? Value.FromElement(array[segment.Index]) : Value.Missing;
                continue;
            }

            if (lenient)
            {
                return Value.Missing;
            }

            var objectHint = current.Kind == ValueKind.Object
                ? string.Create(CultureInfo.InvariantCulture, $" (to read a property named \"{segment.Index}\", write [\"{segment.Index}\"])")
                : "";
            throw context.Error(segment.Position, $"cannot index {current.DescribeKind()} with {segment.Describe()}; only arrays have numbered elements{objectHint}");
        }

        return current;
    }
}
