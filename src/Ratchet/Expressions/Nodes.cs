using System.Text.Json;

namespace Ratchet.Expressions;

/// <summary>What evaluation needs besides the tree: the scope, and the text to quote in an error.</summary>
internal readonly struct EvaluationContext(JsonElement scope, string source, bool isTemplate)
{
    public JsonElement Scope { get; } = scope;

    public ExpressionException Error(int position, string reason) =>
        ExpressionException.Evaluation(source, position, reason, isTemplate);
}

/// <summary>A node of a parsed expression. Immutable, so a parsed expression can be evaluated on many threads.</summary>
internal abstract class Node(int position)
{
    /// <summary>The offset in the source text that errors about this node point at.</summary>
    public int Position { get; } = position;

    public abstract Value Evaluate(in EvaluationContext context);
}

internal sealed class ConstantNode(int position, Value value) : Node(position)
{
    public override Value Evaluate(in EvaluationContext context) => value;
}

internal sealed class NotNode(int position, Node operand) : Node(position)
{
    public override Value Evaluate(in EvaluationContext context) =>
        Value.FromBoolean(!operand.Evaluate(context).IsTruthy());
}

internal sealed class NegateNode(int position, Node operand) : Node(position)
{
    public override Value Evaluate(in EvaluationContext context)
    {
        var value = operand.Evaluate(context);
        if (value.Kind != ValueKind.Number)
        {
            throw context.Error(Position, $"unary '-' needs a number, found {value.DescribeKind()}");
        }

        return Value.FromNumber(-Operators.Number(value, Position, context));
    }
}

/// <summary><c>a and b and c</c> as one node: chains stay shallow however long they are. Short-circuits.</summary>
internal sealed class AndNode(int position, Node[] operands) : Node(position)
{
    public override Value Evaluate(in EvaluationContext context)
    {
        foreach (var operand in operands)
        {
            if (!operand.Evaluate(context).IsTruthy())
            {
                return Value.False;
            }
        }

        return Value.True;
    }
}

/// <summary><c>a or b or c</c> as one node. Short-circuits.</summary>
internal sealed class OrNode(int position, Node[] operands) : Node(position)
{
    public override Value Evaluate(in EvaluationContext context)
    {
        foreach (var operand in operands)
        {
            if (operand.Evaluate(context).IsTruthy())
            {
                return Value.True;
            }
        }

        return Value.False;
    }
}

internal enum ComparisonOperator
{
    Equal,
    NotEqual,
    Less,
    LessOrEqual,
    Greater,
    GreaterOrEqual,
}

internal sealed class ComparisonNode(int position, ComparisonOperator comparison, Node left, Node right) : Node(position)
{
    public override Value Evaluate(in EvaluationContext context)
    {
        var l = left.Evaluate(context);
        var r = right.Evaluate(context);
        switch (comparison)
        {
            case ComparisonOperator.Equal:
                return Value.FromBoolean(Value.JsonEquals(l, r));
            case ComparisonOperator.NotEqual:
                return Value.FromBoolean(!Value.JsonEquals(l, r));
        }

        int order;
        if (l.Kind == ValueKind.Number && r.Kind == ValueKind.Number)
        {
            order = Operators.Number(l, Position, context).CompareTo(Operators.Number(r, Position, context));
        }
        else if (l.Kind == ValueKind.String && r.Kind == ValueKind.String)
        {
            order = string.CompareOrdinal(l.GetString(), r.GetString());
        }
        else
        {
            throw context.Error(
                Position,
                $"cannot compare {l.DescribeKind()} with {r.DescribeKind()} using '{Symbol}'; '<', '<=', '>' and '>=' compare two numbers or two strings (check for null first, or convert with number() or string())");
        }

        return Value.FromBoolean(comparison switch
        {
            ComparisonOperator.Less => order < 0,
            ComparisonOperator.LessOrEqual => order <= 0,
            ComparisonOperator.Greater => order > 0,
            _ => order >= 0,
        });
    }

    private string Symbol => comparison switch
    {
        ComparisonOperator.Less => "<",
        ComparisonOperator.LessOrEqual => "<=",
        ComparisonOperator.Greater => ">",
        _ => ">=",
    };
}

/// <summary>
/// <c>a + b + c</c>, folded from the left: numbers add; once either side is a string the two are joined as text
/// (so <c>1 + 2 + 'x'</c> is "3x" and <c>'x' + 1 + 2</c> is "x12").
/// </summary>
internal sealed class AddNode(int position, Node[] operands, int[] operatorPositions) : Node(position)
{
    public override Value Evaluate(in EvaluationContext context)
    {
        var sum = operands[0].Evaluate(context);
        for (var i = 1; i < operands.Length; i++)
        {
            var next = operands[i].Evaluate(context);
            var at = operatorPositions[i - 1];
            if (sum.Kind == ValueKind.String || next.Kind == ValueKind.String)
            {
                sum = Value.FromString(string.Concat(sum.ToDisplayString(), next.ToDisplayString()));
            }
            else if (sum.Kind == ValueKind.Number && next.Kind == ValueKind.Number)
            {
                var total = Operators.Number(sum, at, context) + Operators.Number(next, at, context);
                if (!double.IsFinite(total))
                {
                    throw context.Error(at, "the sum is too large for a number");
                }

                sum = Value.FromNumber(total);
            }
            else
            {
                throw context.Error(
                    at,
                    $"cannot add {sum.DescribeKind()} and {next.DescribeKind()} with '+'; '+' adds two numbers, or joins text when either side is a string");
            }
        }

        return sum;
    }
}

internal static class Operators
{
    public static double Number(in Value value, int position, in EvaluationContext context) =>
        value.TryGetNumber(out var number)
            ? number
            : throw context.Error(position, "the number is too large to calculate with");
}
