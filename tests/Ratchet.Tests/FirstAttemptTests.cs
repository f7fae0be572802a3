using Ratchet.Engine;

namespace Ratchet.Tests;

/// <summary>Where a node's run of attempts began, which its retry policy counts from (issue 11, point 10).</summary>
public sealed class FirstAttemptTests
{
    private static readonly DateTimeOffset At = new(2025, 4, 2, 8, 30, 0, TimeSpan.Zero);

    private static AuditEvent Event(string type, string? node = null, int? attempt = null) =>
        new() { WorkflowId = "w", Type = type, Node = node, Attempt = attempt, At = At };

    private static AuditEvent Started(string node, int attempt) => Event(AuditEventTypes.NodeStarted, node, attempt);

    public static TheoryData<string, AuditEvent[], int, int> Trails => new()
    {
        {
            "attempts of a node reached by a transition begin at 1",
            [Started("plan", 1), Event(AuditEventTypes.NodeCompleted, "plan", 1), Started("build", 1), Event(AuditEventTypes.RetryScheduled, "build", 2), Started("build", 2)],
            2, 1
        },
        {
            "a retry's attempts begin where the retry put them",
            [Started("build", 1), Event(AuditEventTypes.NodeFailed, "build", 1), Started("build", 2), Event(AuditEventTypes.Retried, "build", 3),
                Event(AuditEventTypes.StatusChanged), Started("build", 3), Event(AuditEventTypes.RetryScheduled, "build", 4), Started("build", 4)],
            4, 3
        },
        {
            "an interrupted attempt started again and a recovered one belong to the same run",
            [Started("other", 1), Started("build", 1), Started("build", 1), Event(AuditEventTypes.Recovered, "build", 2), Started("build", 2)],
            2, 1
        },
        {
            "a loop back to the node after a retried run begins a new run",
            [Event(AuditEventTypes.Retried, "build", 3), Started("build", 3), Started("build", 1), Event(AuditEventTypes.RetryScheduled, "build", 2), Started("build", 2)],
            2, 1
        },
        {
            "a node looping to itself begins a new run after it completed",
            [Started("poll", 5), Event(AuditEventTypes.NodeCompleted, "poll", 5), Started("poll", 1)],
            1, 1
        },
    };

    [Theory]
    [MemberData(nameof(Trails))]
    public void FirstAttempt_AuditTrail_IsWhereTheRunOfAttemptsBegan(string because, AuditEvent[] events, int attempt, int expected)
    {
        Assert.True(Steps.FirstAttempt(events, events.Last(e => e.Type == AuditEventTypes.NodeStarted).Node!, attempt) == expected, because);
    }
}
