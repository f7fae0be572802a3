using System.Text.Json;
using Ratchet.Serialization;
using Ratchet.Storage;

namespace Ratchet.Tests;

public sealed class ChangeSetTests
{
    private static WorkflowRecord Record(string id = "wf-1", string type = "build", long version = 0) =>
        new() { Id = id, Type = type, Version = version };

    [Fact]
    public void IsEmpty_NewChangeSet_IsTrueAndListsAreEmpty()
    {
        var changes = new ChangeSet();

        Assert.True(changes.IsEmpty);
        Assert.Empty(changes.Workflows);
        Assert.Empty(changes.Checks);
        Assert.Empty(changes.ValueChecks);
        Assert.Empty(changes.Steps);
        Assert.Empty(changes.Events);
        Assert.Empty(changes.Commands);
        Assert.Empty(changes.Workspaces);
        Assert.Empty(changes.KeyValues);
    }

    [Fact]
    public void Builders_EachKindOfWrite_AreKeptInOrderAndChangeSetIsNoLongerEmpty()
    {
        var changes = new ChangeSet();
        var value = RatchetJson.Parse("42");

        var returned = changes
            .CreateWorkflow(Record("a"))
            .UpdateWorkflow(Record("b", version: 3), LeaseAction.Release)
            .ExpectWorkflowVersion("c", 7)
            .ExpectValueVersion("ns", "k0", 0)
            .AppendStep(new StepRecord { WorkflowId = "a", Node = "n" })
            .AppendEvent(new AuditEvent { WorkflowId = "a", Type = AuditEventTypes.Created })
            .RecordCommand(new CommandExecution { WorkflowId = "a", Node = "n", CommandLine = "true" })
            .PutWorkspace(new WorkspaceRecord { WorkflowId = "a", Path = "/tmp/a" })
            .SaveValue("ns", "k1", value, expectedVersion: 2)
            .DeleteValue("ns", "k2");

        Assert.Same(changes, returned);
        Assert.False(changes.IsEmpty);
        Assert.Collection(changes.Workflows,
            w => Assert.Equal((WorkflowWriteKind.Create, "a", LeaseAction.Keep), (w.Kind, w.Record.Id, w.Lease)),
            w => Assert.Equal((WorkflowWriteKind.Update, "b", LeaseAction.Release), (w.Kind, w.Record.Id, w.Lease)));
        Assert.Equal(new WorkflowVersionCheck("c", 7), Assert.Single(changes.Checks));
        Assert.Equal(new KeyValueVersionCheck("ns", "k0", 0), Assert.Single(changes.ValueChecks));
        Assert.Single(changes.Steps);
        Assert.Single(changes.Events);
        Assert.Single(changes.Commands);
        Assert.Single(changes.Workspaces);
        Assert.Collection(changes.KeyValues,
            kv =>
            {
                Assert.Equal(("ns", "k1", 2L), (kv.Namespace, kv.Key, kv.ExpectedVersion));
                Assert.Equal(42, kv.Value!.Value.GetInt32());
            },
            kv =>
            {
                Assert.Equal(("ns", "k2"), (kv.Namespace, kv.Key));
                Assert.Null(kv.Value);
                Assert.Null(kv.ExpectedVersion);
            });
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-1)]
    public void UpdateWorkflow_VersionNotPositive_ThrowsArgumentExceptionSayingToCreate(long version)
    {
        var changes = new ChangeSet();

        var ex = Assert.Throws<ArgumentException>(() => changes.UpdateWorkflow(Record(version: version)));

        Assert.Equal("record", ex.ParamName);
        Assert.StartsWith($"Workflow 'wf-1' has version {version}: update a record read from the store, or create it instead.", ex.Message, StringComparison.Ordinal);
        Assert.True(changes.IsEmpty);
    }

    [Theory]
    [InlineData("")]
    [InlineData(" ")]
    [InlineData("\t")]
    public void CreateWorkflow_BlankType_ThrowsArgumentException(string type)
    {
        var changes = new ChangeSet();

        var ex = Assert.Throws<ArgumentException>(() => changes.CreateWorkflow(Record(type: type)));

        Assert.Equal("record", ex.ParamName);
        Assert.StartsWith("Workflow 'wf-1' has no type; give it the name of its definition.", ex.Message, StringComparison.Ordinal);
        Assert.True(changes.IsEmpty);
    }

    [Fact]
    public void UpdateWorkflow_BlankType_ThrowsArgumentException()
    {
        var ex = Assert.Throws<ArgumentException>(() => new ChangeSet().UpdateWorkflow(Record(type: "", version: 1)));

        Assert.Contains("has no type", ex.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("")]
    [InlineData("has space")]
    [InlineData("-leading")]
    public void CreateWorkflow_InvalidId_ThrowsArgumentException(string id)
    {
        var ex = Assert.Throws<ArgumentException>(() => new ChangeSet().CreateWorkflow(Record(id: id)));

        Assert.Equal("record", ex.ParamName);
    }

    [Fact]
    public void CreateWorkflow_Null_ThrowsArgumentNullException()
    {
        Assert.Throws<ArgumentNullException>(() => new ChangeSet().CreateWorkflow(null!));
        Assert.Throws<ArgumentNullException>(() => new ChangeSet().UpdateWorkflow(null!));
    }

    [Fact]
    public void SaveValue_UndefinedJson_ThrowsArgumentException()
    {
        var changes = new ChangeSet();

        var ex = Assert.Throws<ArgumentException>(() => changes.SaveValue("ns", "key", default));

        Assert.Equal("value", ex.ParamName);
        Assert.StartsWith("The value for key 'key' is undefined JSON", ex.Message, StringComparison.Ordinal);
        Assert.True(changes.IsEmpty);
    }

    [Fact]
    public void SaveValue_ValueDeeperThanTheLimit_IsRefusedNamingTheKey()
    {
        var changes = new ChangeSet();
        using var deep = JsonDocument.Parse(new string('[', 65) + new string(']', 65), new JsonDocumentOptions { MaxDepth = 100 });

        var ex = Assert.Throws<JsonTooDeepException>(() => changes.SaveValue("ns", "plan", deep.RootElement));

        Assert.StartsWith("The value for key 'plan' is nested deeper than 64", ex.Message, StringComparison.Ordinal);
        Assert.True(changes.IsEmpty);
        changes.SaveValue("ns", "plan", deep.RootElement[0]);
        Assert.Single(changes.KeyValues);
    }

    [Fact]
    public void SaveValue_JsonNull_IsAccepted()
    {
        var changes = new ChangeSet().SaveValue("ns", "key", RatchetJson.Parse("null"));

        var write = Assert.Single(changes.KeyValues);
        Assert.Equal(JsonValueKind.Null, write.Value!.Value.ValueKind);
    }

    public static TheoryData<string, string, string> BadNames() => new()
    {
        { "", "key", "namespace" },
        { "ns", "", "key" },
        { "a/b", "key", "namespace" },
        { "ns", "a\\b", "key" },
        { "ns", "line\nbreak", "key" },
        { "nul\0", "key", "namespace" },
        { new string('n', KeyValueNames.MaxLength + 1), "key", "namespace" },
        { "ns", new string('k', KeyValueNames.MaxLength + 1), "key" },
    };

    [Theory]
    [MemberData(nameof(BadNames))]
    public void SaveValue_BadName_ThrowsNamingTheParameter(string @namespace, string key, string parameter)
    {
        var ex = Assert.Throws<ArgumentException>(() => new ChangeSet().SaveValue(@namespace, key, RatchetJson.Parse("1")));

        Assert.Equal(parameter, ex.ParamName);
    }

    [Theory]
    [MemberData(nameof(BadNames))]
    public void DeleteValue_BadName_ThrowsNamingTheParameter(string @namespace, string key, string parameter)
    {
        var ex = Assert.Throws<ArgumentException>(() => new ChangeSet().DeleteValue(@namespace, key));

        Assert.Equal(parameter, ex.ParamName);
    }

    [Theory]
    [MemberData(nameof(BadNames))]
    public void ExpectValueVersion_BadName_ThrowsNamingTheParameter(string @namespace, string key, string parameter)
    {
        var ex = Assert.Throws<ArgumentException>(() => new ChangeSet().ExpectValueVersion(@namespace, key, 1));

        Assert.Equal(parameter, ex.ParamName);
    }

    [Fact]
    public void ExpectWorkflowVersion_EmptyId_ThrowsArgumentException()
    {
        Assert.Throws<ArgumentException>(() => new ChangeSet().ExpectWorkflowVersion("", 1));
        Assert.Throws<ArgumentNullException>(() => new ChangeSet().ExpectWorkflowVersion(null!, 1));
    }

    [Fact]
    public void AppendEvent_EmptyType_ThrowsArgumentException()
    {
        var ex = Assert.Throws<ArgumentException>(() =>
            new ChangeSet().AppendEvent(new AuditEvent { WorkflowId = "wf-1", Type = "" }));

        Assert.Equal("auditEvent", ex.ParamName);
    }

    [Fact]
    public void Append_Null_ThrowsArgumentNullException()
    {
        var changes = new ChangeSet();

        Assert.Throws<ArgumentNullException>(() => changes.AppendStep(null!));
        Assert.Throws<ArgumentNullException>(() => changes.AppendEvent(null!));
        Assert.Throws<ArgumentNullException>(() => changes.RecordCommand(null!));
        Assert.Throws<ArgumentNullException>(() => changes.PutWorkspace(null!));
        Assert.True(changes.IsEmpty);
    }
}
