using System.Text.Json;
using Ratchet.Serialization;

namespace Ratchet.Conformance;

/// <summary>Records with every field set and JSON that is easy to get wrong, for round-trip tests.</summary>
public static class SampleRecords
{
    /// <summary>
    /// JSON that a lossy store would change: big and precise numbers, escapes, non-ASCII text, empty containers,
    /// nesting, JSON null inside.
    /// </summary>
    public const string TrickyJson = """
        {
          "issue": 42,
          "repo": "acme/widgets",
          "labels": ["bug", "p1", ""],
          "nested": { "deep": [1, 2.5, -3e-7, 1E+300, { "x": null, "y": true, "z": false }] },
          "big": 123456789012345678901234567890,
          "precise": 0.1000000000000000055511151231257827,
          "text": "tab\t quote\" backslash\\ slash\/ newline\n unicode é 漢字 😀 escaped \u00e9 \ud83d\ude00",
          "emptyObject": {},
          "emptyArray": []
        }
        """;

    /// <summary>Parses <see cref="TrickyJson"/>.</summary>
    public static JsonElement Tricky => RatchetJson.Parse(TrickyJson);

    /// <summary>A workflow with every field set (not archived), times taken from <paramref name="now"/> as given.</summary>
    public static WorkflowRecord RichWorkflow(string id, DateTimeOffset now, string? parentId = null) => new()
    {
        Id = id,
        Type = "issue-implementation",
        DefinitionVersion = "sha256:3f2a9c0d",
        Status = WorkflowStatus.Waiting,
        WaitReason = WaitReason.Signal,
        WaitDetail = "pr-merged «main» ✓",
        CurrentNode = "review",
        Input = Tricky,
        Artifacts = new Dictionary<string, JsonElement>(StringComparer.Ordinal)
        {
            ["analyze"] = RatchetJson.Parse("""{"files":["src/a.cs","src/b.cs"],"risk":"low","score":0.75}"""),
            ["plan"] = RatchetJson.Parse("""[1, "two", {"three": 3}]"""),
            ["note"] = RatchetJson.Parse("\"a plain string «quoted»\""),
            ["nothing"] = RatchetJson.Parse("null"),
            ["tricky"] = Tricky,
        },
        Metadata = RatchetJson.Parse("""{"pr":"https://github.com/acme/widgets/pull/7","prompt":"Approve the plan?","labels":{}}"""),
        ParentId = parentId,
        Attempt = 3,
        DueAt = now.AddMinutes(5),
        LeaseOwner = "worker-1/1234/ab12",
        LeaseExpiresAt = now.AddMinutes(1),
        Error = new WorkflowError("TimeoutException", "Node 'test' timed out after 00:10:00 — «quoted» \"text\" ✓\nsecond line"),
        TraceParent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
        CreatedAt = now.AddHours(-1),
        UpdatedAt = now,
    };

    /// <summary>A failed journal entry with an output and an error.</summary>
    public static StepRecord RichStep(string workflowId, DateTimeOffset now) => new()
    {
        WorkflowId = workflowId,
        Node = "implement",
        Attempt = 2,
        Outcome = StepOutcome.Failed,
        Output = Tricky,
        Error = new WorkflowError("InvalidOperationException", "Build failed: error CS1002: ; expected — ünïcödé"),
        StartedAt = now.AddSeconds(-30),
        FinishedAt = now,
    };

    /// <summary>An audit event with a node, an attempt and a payload.</summary>
    public static AuditEvent RichEvent(string workflowId, DateTimeOffset now) => new()
    {
        WorkflowId = workflowId,
        Type = AuditEventTypes.NodeFailed,
        Node = "implement",
        Attempt = 2,
        Payload = Tricky,
        At = now,
    };

    /// <summary>A command that was killed (no exit code), with output tails.</summary>
    public static CommandExecution RichCommand(string workflowId, DateTimeOffset now) => new()
    {
        WorkflowId = workflowId,
        Node = "test",
        Attempt = 2,
        CommandLine = "dotnet test --filter \"Category=Slow\" --api-key ***",
        WorkingDirectory = "/var/ratchet/workspaces/wf 1",
        ExitCode = null,
        Duration = TimeSpan.FromMicroseconds(600_123_457),
        StdoutTail = "Passed!  - Failed: 0, Passed: 12\nline two é 漢字",
        StderrTail = "warning: something\r\n\ttabbed",
        StartedAt = now.AddMinutes(-10),
    };

    /// <summary>A workspace.</summary>
    public static WorkspaceRecord RichWorkspace(string workflowId, DateTimeOffset now) => new()
    {
        WorkflowId = workflowId,
        Path = "/var/ratchet/workspaces/é 漢字",
        Status = WorkspaceStatus.Failed,
        CreatedAt = now.AddMinutes(-10),
        HeartbeatAt = now,
    };
}
