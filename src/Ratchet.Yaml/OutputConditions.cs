using System.Text.Json;
using Ratchet.Engine;
using Ratchet.Expressions;

namespace Ratchet.Yaml;

/// <summary>
/// A node's <c>on:</c> conditions over its output (<c>"output.status == 'done'"</c>): after a success, tried in file
/// order, the first that holds names the outcome; none holding is the success path.
/// </summary>
internal sealed class OutputConditions
{
    private readonly (Expression Condition, string Outcome)[] _conditions;

    public OutputConditions(IEnumerable<TransitionSpec> transitions)
    {
        _conditions = transitions.Where(t => t.Kind == TransitionKind.Condition).Select(t => (Expression.Parse(t.Key), Outcome(t.Key))).ToArray();
    }

    /// <summary>The outcome of a condition is its own text, so graphs and audits show what was tested.</summary>
    public static string Outcome(string condition) => condition;

    /// <summary>The node's result: its output, with the outcome of the first condition that holds over it.</summary>
    public NodeResult Choose(NodeContext context, WorkflowFile file, string? workspace, JsonElement? output)
    {
        if (_conditions.Length > 0)
        {
            var withOutput = StateScope.Build(context, file, workspace, output);
            foreach (var (condition, outcome) in _conditions)
            {
                if (condition.EvaluateBoolean(withOutput))
                {
                    return new NodeResult { Outcome = outcome, Output = output };
                }
            }
        }

        return new NodeResult { Output = output };
    }
}
