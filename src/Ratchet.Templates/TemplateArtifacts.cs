namespace Ratchet.Templates;

/// <summary>
/// Artifacts the templates keep besides their steps' outputs (which are stored under the steps' names).
/// </summary>
public static class TemplateArtifacts
{
    /// <summary>
    /// The step that completed last and the outcome it chose (a <see cref="CompletedStep"/>), rewritten by every step;
    /// the <c>Failed</c> step follows it to name the step that failed.
    /// </summary>
    public const string LastStep = "lastStep";
}

/// <summary>A step that completed, and the outcome that chose where the workflow went next.</summary>
/// <param name="Step">The step's name.</param>
/// <param name="Outcome">Its outcome, such as <c>success</c> or <c>tests-failed</c>.</param>
public sealed record CompletedStep(string Step, string Outcome);
