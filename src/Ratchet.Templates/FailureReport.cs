using System.Text.Json;
using Ratchet.Engine;

namespace Ratchet.Templates;

/// <summary>
/// Why a template's workflow failed: the output of its <c>Failed</c> step, and what <see cref="IFailureReporter"/>s
/// receive. To run the workflow again from where it broke, retry it from <see cref="FailedStep"/>
/// (<c>engine.RetryAsync(id, report.FailedStep)</c>); a plain retry runs the <c>Failed</c> step again.
/// </summary>
/// <param name="WorkflowId">The workflow's id.</param>
/// <param name="WorkflowType">The workflow's type.</param>
/// <param name="FailedStep">The step that failed (or the approval that was rejected).</param>
/// <param name="Error">What went wrong, as the engine recorded it.</param>
/// <param name="At">When the failure was recorded.</param>
/// <param name="Input">The workflow's input, for reporters that comment on the issue or pull request it serves.</param>
public sealed record FailureReport(string WorkflowId, string WorkflowType, string FailedStep, WorkflowError Error, DateTimeOffset At, JsonElement? Input)
{
    /// <summary>The workflow's input as <typeparamref name="T"/> (for example an issue input); default if there is none.</summary>
    public T? GetInput<T>() => Input is { ValueKind: not JsonValueKind.Null } input ? input.Deserialize<T>(WorkflowJson.Options) : default;
}

/// <summary>
/// Told when a template's workflow fails, before it ends: post a comment on the issue, alert someone. Optional; every
/// registered reporter is called, in registration order. A reporter that throws makes the <c>Failed</c> step retry
/// (see <see cref="FailureReportingException"/>), so reporters should be idempotent by <see cref="StepContext.IdempotencyKey"/>
/// or tolerate being called again.
/// </summary>
public interface IFailureReporter
{
    /// <summary>Reports <paramref name="report"/>.</summary>
    Task ReportFailureAsync(FailureReport report, StepContext context, CancellationToken cancellationToken = default);
}

/// <summary>A human's decision on an approval step, as the engine records it (the approval step's artifact).</summary>
/// <param name="Approved">Whether it was approved.</param>
/// <param name="By">Who decided.</param>
/// <param name="Comment">What they said, if anything.</param>
public sealed record ApprovalDecision(bool Approved, string By, string? Comment);
