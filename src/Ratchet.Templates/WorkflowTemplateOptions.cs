using Ratchet.Engine;

namespace Ratchet.Templates;

/// <summary>
/// Settings every template has: its workflow type name, a time limit, and per-step retry policies and time limits.
/// Plain properties with documented defaults; <see cref="Validate"/> lists every problem, and building a template
/// refuses options with problems.
/// </summary>
public abstract class WorkflowTemplateOptions
{
    private protected WorkflowTemplateOptions()
    {
    }

    /// <summary>
    /// The workflow type the definition is registered as; default the template's own name (such as
    /// <c>issue-implementation</c>). Give two differently configured copies of a template different names.
    /// </summary>
    public string? Name { get; set; }

    /// <summary>How long a whole workflow may run from its creation (waiting for approval included); default no limit.</summary>
    public TimeSpan? Timeout { get; set; }

    /// <summary>
    /// Retry policies by step name, replacing the template's defaults (see <see cref="TemplateRetryPolicies"/>) for
    /// those steps. Keys are the template's step names, such as <c>IssueImplementationTemplate.CreatingPR</c>.
    /// </summary>
    public IDictionary<string, RetryPolicy> Retry { get; } = new Dictionary<string, RetryPolicy>(StringComparer.Ordinal);

    /// <summary>How long one attempt of a step may run, by step name; steps not listed have no limit of their own.</summary>
    public IDictionary<string, TimeSpan> StepTimeouts { get; } = new Dictionary<string, TimeSpan>(StringComparer.Ordinal);

    /// <summary>The template's default workflow type name.</summary>
    private protected abstract string DefaultName { get; }

    /// <summary>The steps whose retry policy and time limit can be set.</summary>
    private protected abstract IReadOnlyList<string> ConfigurableSteps { get; }

    /// <summary>The name the definition is built with.</summary>
    internal string EffectiveName => Name ?? DefaultName;

    /// <summary>Every problem with these options, as sentences; empty when they can be used.</summary>
    public IReadOnlyList<string> Validate()
    {
        var problems = new List<string>();
        if (Name is not null && (string.IsNullOrWhiteSpace(Name) || Name.Length > 200))
        {
            problems.Add($"Name is '{Name}'; it must be 1 to 200 characters and not blank, or unset for '{DefaultName}'.");
        }

        if (Timeout is { } timeout && timeout <= TimeSpan.Zero)
        {
            problems.Add($"Timeout is {timeout}; it must be positive, or unset for no limit.");
        }

        var steps = string.Join(", ", ConfigurableSteps);
        foreach (var (step, policy) in Retry)
        {
            if (!ConfigurableSteps.Contains(step, StringComparer.Ordinal))
            {
                problems.Add($"Retry names the step '{step}', which '{EffectiveName}' does not have; its steps are {steps}.");
            }
            else if (policy is null)
            {
                problems.Add($"Retry['{step}'] is null; give a policy (TemplateRetryPolicies.None for one attempt) or remove the entry.");
            }
            else
            {
                problems.AddRange(policy.Problems($"Retry['{step}']"));
            }
        }

        foreach (var (step, limit) in StepTimeouts)
        {
            if (!ConfigurableSteps.Contains(step, StringComparer.Ordinal))
            {
                problems.Add($"StepTimeouts names the step '{step}', which '{EffectiveName}' does not have; its steps are {steps}.");
            }
            else if (limit <= TimeSpan.Zero)
            {
                problems.Add($"StepTimeouts['{step}'] is {limit}; it must be positive, or remove the entry for no limit.");
            }
        }

        AddProblems(problems);
        return problems;
    }

    /// <summary>Adds the problems of a template's own settings.</summary>
    private protected virtual void AddProblems(List<string> problems)
    {
    }

    /// <summary>Throws, listing every problem, when the options cannot be used.</summary>
    internal void ThrowIfInvalid()
    {
        var problems = Validate();
        if (problems.Count > 0)
        {
            throw new ArgumentException($"Invalid options for the workflow template '{DefaultName}': {string.Join(" ", problems)}");
        }
    }
}
