namespace Ratchet.Yaml;

/// <summary>One thing wrong in a workflow file.</summary>
/// <param name="File">The file.</param>
/// <param name="Position">Where; null when the problem concerns the whole file.</param>
/// <param name="Message">What is wrong and what to write instead.</param>
public sealed record WorkflowFileProblem(string File, SourcePosition? Position, string Message)
{
    /// <summary><c>file:line:column: message</c>, the format editors and terminals link to.</summary>
    public override string ToString() => Position is { } at ? $"{File}:{at.Line}:{at.Column}: {Message}" : $"{File}: {Message}";
}

/// <summary>A workflow file that cannot be used; every problem is listed, each with its line.</summary>
public sealed class WorkflowFileException(IReadOnlyList<WorkflowFileProblem> problems)
    : RatchetException(problems.Count == 1 ? problems[0].ToString() : $"{problems[0]} (and {problems.Count - 1} more problem{(problems.Count > 2 ? "s" : "")}: {string.Join("; ", problems.Skip(1).Select(p => p.ToString()))})")
{
    /// <summary>Every problem, in file order.</summary>
    public IReadOnlyList<WorkflowFileProblem> Problems { get; } = problems;

    /// <inheritdoc />
    public override string ErrorCode => "invalid-workflow-file";
}
