using Ratchet.Serialization;
using Ratchet.Storage;

namespace Ratchet.Tests;

public sealed class StoreSnapshotTests
{
    // Ordinal order of these: "B" (0x42) < "Z" (0x5A) < "_" (0x5F) < "a" (0x61) < "é" (0xE9).
    private static readonly string[] Shuffled = ["a", "_", "é", "Z", "B"];
    private static readonly string[] Ordinal = ["B", "Z", "_", "a", "é"];

    [Fact]
    public void Canonicalize_Workflows_OrderedByIdOrdinal()
    {
        var snapshot = new StoreSnapshot { Workflows = Shuffled.Select(id => new WorkflowRecord { Id = id, Type = "t" }).ToArray() };

        var canonical = snapshot.Canonicalize();

        Assert.Equal(Ordinal, canonical.Workflows.Select(w => w.Id));
        Assert.Equal(Shuffled, snapshot.Workflows.Select(w => w.Id));
    }

    [Fact]
    public void Canonicalize_Steps_OrderedByWorkflowThenNumericSequence()
    {
        var snapshot = new StoreSnapshot
        {
            Steps =
            [
                new StepRecord { WorkflowId = "b", Sequence = 1, Node = "n" },
                new StepRecord { WorkflowId = "a", Sequence = 10, Node = "n" },
                new StepRecord { WorkflowId = "a", Sequence = 2, Node = "n" },
                new StepRecord { WorkflowId = "A", Sequence = 3, Node = "n" },
            ],
        };

        var canonical = snapshot.Canonicalize();

        Assert.Equal([("A", 3L), ("a", 2L), ("a", 10L), ("b", 1L)], canonical.Steps.Select(s => (s.WorkflowId, s.Sequence)));
    }

    [Fact]
    public void Canonicalize_EventsAndCommands_OrderedByWorkflowThenSequence()
    {
        var snapshot = new StoreSnapshot
        {
            Events =
            [
                new AuditEvent { WorkflowId = "w2", Sequence = 1, Type = "created" },
                new AuditEvent { WorkflowId = "w1", Sequence = 12, Type = "signal" },
                new AuditEvent { WorkflowId = "w1", Sequence = 9, Type = "created" },
            ],
            Commands =
            [
                new CommandExecution { WorkflowId = "w1", Sequence = 2, Node = "n", CommandLine = "b" },
                new CommandExecution { WorkflowId = "W1", Sequence = 5, Node = "n", CommandLine = "c" },
                new CommandExecution { WorkflowId = "w1", Sequence = 1, Node = "n", CommandLine = "a" },
            ],
        };

        var canonical = snapshot.Canonicalize();

        Assert.Equal([("w1", 9L), ("w1", 12L), ("w2", 1L)], canonical.Events.Select(e => (e.WorkflowId, e.Sequence)));
        Assert.Equal(["c", "a", "b"], canonical.Commands.Select(c => c.CommandLine));
    }

    [Fact]
    public void Canonicalize_Workspaces_OrderedByWorkflowIdOrdinal()
    {
        var snapshot = new StoreSnapshot { Workspaces = Shuffled.Select(id => new WorkspaceRecord { WorkflowId = id, Path = "/w/" + id }).ToArray() };

        Assert.Equal(Ordinal, snapshot.Canonicalize().Workspaces.Select(w => w.WorkflowId));
    }

    [Fact]
    public void Canonicalize_Values_OrderedByNamespaceThenKeyOrdinal()
    {
        var value = RatchetJson.Parse("1");
        var snapshot = new StoreSnapshot
        {
            Values =
            [
                new KeyValueEntry { Namespace = "ns", Key = "b", Value = value },
                new KeyValueEntry { Namespace = "NS", Key = "z", Value = value },
                new KeyValueEntry { Namespace = "ns", Key = "B", Value = value },
                new KeyValueEntry { Namespace = "ns", Key = "a", Value = value },
            ],
        };

        Assert.Equal([("NS", "z"), ("ns", "B"), ("ns", "a"), ("ns", "b")], snapshot.Canonicalize().Values.Select(v => (v.Namespace, v.Key)));
    }

    [Fact]
    public void Canonicalize_Checkpoints_OrderedByNamespaceThenNameOrdinal()
    {
        var snapshot = new StoreSnapshot
        {
            Checkpoints =
            [
                new CheckpointRecord { Namespace = "n2", Name = "a", Entries = new Dictionary<string, System.Text.Json.JsonElement>() },
                new CheckpointRecord { Namespace = "n1", Name = "v10", Entries = new Dictionary<string, System.Text.Json.JsonElement>() },
                new CheckpointRecord { Namespace = "n1", Name = "V2", Entries = new Dictionary<string, System.Text.Json.JsonElement>() },
                new CheckpointRecord { Namespace = "n1", Name = "v2", Entries = new Dictionary<string, System.Text.Json.JsonElement>() },
            ],
        };

        Assert.Equal([("n1", "V2"), ("n1", "v10"), ("n1", "v2"), ("n2", "a")], snapshot.Canonicalize().Checkpoints.Select(c => (c.Namespace, c.Name)));
    }

    [Fact]
    public void Canonicalize_KeepsFormatVersion()
    {
        var snapshot = new StoreSnapshot { FormatVersion = 1 };

        Assert.Equal(1, snapshot.Canonicalize().FormatVersion);
    }

    [Fact]
    public void IsEmpty_NewSnapshot_IsTrue()
    {
        Assert.True(new StoreSnapshot().IsEmpty);
    }

    [Fact]
    public void IsEmpty_AnyList_IsFalse()
    {
        var value = RatchetJson.Parse("1");

        Assert.False(new StoreSnapshot { Workflows = [new WorkflowRecord { Id = "a", Type = "t" }] }.IsEmpty);
        Assert.False(new StoreSnapshot { Steps = [new StepRecord { WorkflowId = "a", Node = "n" }] }.IsEmpty);
        Assert.False(new StoreSnapshot { Events = [new AuditEvent { WorkflowId = "a", Type = "t" }] }.IsEmpty);
        Assert.False(new StoreSnapshot { Commands = [new CommandExecution { WorkflowId = "a", Node = "n", CommandLine = "c" }] }.IsEmpty);
        Assert.False(new StoreSnapshot { Workspaces = [new WorkspaceRecord { WorkflowId = "a", Path = "p" }] }.IsEmpty);
        Assert.False(new StoreSnapshot { Values = [new KeyValueEntry { Namespace = "n", Key = "k", Value = value }] }.IsEmpty);
        Assert.False(new StoreSnapshot { Checkpoints = [new CheckpointRecord { Namespace = "n", Name = "c", Entries = new Dictionary<string, System.Text.Json.JsonElement>() }] }.IsEmpty);
    }
}
