using System.Text;
using System.Text.Json;
using Ratchet.Serialization;
using Ratchet.Storage;

namespace Ratchet.Tests;

public sealed class RatchetJsonTests
{
    private static readonly DateTimeOffset At = new(2025, 4, 2, 8, 30, 0, TimeSpan.Zero);

    [Fact]
    public void MapToText_ThenParseMap_RoundTripsKeysValuesAndOrder()
    {
        var map = new Dictionary<string, JsonElement>(StringComparer.Ordinal)
        {
            ["zeta"] = RatchetJson.Parse("{\"files\":[\"a.cs\",\"b.cs\"],\"ok\":true}"),
            ["alpha"] = RatchetJson.Parse("\"text with \\\"quotes\\\" and \\u00e9\""),
            ["with \"quote\" and ünïcode"] = RatchetJson.Parse("null"),
            ["n"] = RatchetJson.Parse("-12.5e3"),
        };

        var text = RatchetJson.MapToText(map);
        var parsed = RatchetJson.ParseMap(text);

        Assert.Equal(map.Keys, parsed.Keys);
        foreach (var (key, value) in map)
        {
            Assert.True(JsonElement.DeepEquals(value, parsed[key]), key);
        }
    }

    [Fact]
    public void MapToText_EmptyMap_IsEmptyObject()
    {
        Assert.Equal("{}", RatchetJson.MapToText(new Dictionary<string, JsonElement>()));
    }

    [Fact]
    public void MapToText_OneEntry_IsCompactJson()
    {
        var map = new Dictionary<string, JsonElement> { ["plan"] = RatchetJson.Parse("{ \"steps\" : 3 }") };

        Assert.Equal("{\"plan\":{\"steps\":3}}", RatchetJson.MapToText(map));
    }

    [Fact]
    public void MapToText_Null_ThrowsArgumentNullException()
    {
        Assert.Throws<ArgumentNullException>(() => RatchetJson.MapToText(null!));
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("{}")]
    public void ParseMap_NullOrEmpty_ReturnsEmptyMap(string? text)
    {
        Assert.Empty(RatchetJson.ParseMap(text));
    }

    [Theory]
    [InlineData("[1,2]", "Array")]
    [InlineData("42", "Number")]
    [InlineData("\"s\"", "String")]
    public void ParseMap_NotAnObject_ThrowsJsonExceptionNamingTheKind(string text, string kind)
    {
        var ex = Assert.Throws<JsonException>(() => RatchetJson.ParseMap(text));

        Assert.Equal($"Expected a JSON object, found {kind}.", ex.Message);
    }

    [Fact]
    public void ParseMap_NotJson_ThrowsJsonException()
    {
        Assert.ThrowsAny<JsonException>(() => RatchetJson.ParseMap("{not json"));
    }

    [Fact]
    public void Parse_Value_OutlivesItsSourceText()
    {
        var element = RatchetJson.Parse(new StringBuilder("{\"a\":[1,2,3]}").ToString());

        Assert.Equal(3, element.GetProperty("a").GetArrayLength());
    }

    [Fact]
    public void ToText_NullOrUndefined_ReturnsNull()
    {
        Assert.Null(RatchetJson.ToText(null));
        Assert.Null(RatchetJson.ToText(default(JsonElement)));
    }

    [Fact]
    public void ToText_Value_ReturnsRawText()
    {
        Assert.Equal("[1, 2]", RatchetJson.ToText(RatchetJson.Parse("[1, 2]")));
    }

    [Fact]
    public void ParseOptional_NullText_ReturnsNull()
    {
        Assert.Null(RatchetJson.ParseOptional(null));
        Assert.Equal(JsonValueKind.True, RatchetJson.ParseOptional("true")!.Value.ValueKind);
    }

    [Fact]
    public void ErrorToText_ThenParseError_RoundTrips()
    {
        var error = new WorkflowError("TimeoutException", "Node 'build' ran for more than \"10m\".");

        var text = RatchetJson.ErrorToText(error);

        Assert.Equal("{\"type\":\"TimeoutException\",\"message\":\"Node \\u0027build\\u0027 ran for more than \\u002210m\\u0022.\"}", text);
        Assert.Equal(error, RatchetJson.ParseError(text));
    }

    [Fact]
    public void ErrorToText_Null_ReturnsNullAndParseErrorOfNullReturnsNull()
    {
        Assert.Null(RatchetJson.ErrorToText(null));
        Assert.Null(RatchetJson.ParseError(null));
    }

    [Fact]
    public void DeepEquals_SameContentDifferentPropertyOrder_IsTrue()
    {
        Assert.True(RatchetJson.DeepEquals(RatchetJson.Parse("{\"a\":1,\"b\":[true]}"), RatchetJson.Parse("{\"b\":[true],\"a\":1}")));
        Assert.True(RatchetJson.DeepEquals(null, null));
        Assert.False(RatchetJson.DeepEquals(RatchetJson.Parse("1"), null));
        Assert.False(RatchetJson.DeepEquals(null, RatchetJson.Parse("1")));
        Assert.False(RatchetJson.DeepEquals(RatchetJson.Parse("{\"a\":1}"), RatchetJson.Parse("{\"a\":2}")));
    }

    [Fact]
    public void ToElement_Dictionary_SerializesToJsonObject()
    {
        var element = RatchetJson.ToElement(new Dictionary<string, string> { ["type"] = "build" });

        Assert.Equal("build", element.GetProperty("type").GetString());
    }

    [Fact]
    public void ToJsonLine_AuditEvent_IsOneCamelCaseLineWithoutNulls()
    {
        var auditEvent = new AuditEvent
        {
            WorkflowId = "wf-1",
            Sequence = 3,
            Type = AuditEventTypes.NodeCompleted,
            Node = "plan",
            Payload = RatchetJson.Parse("{\n  \"lines\": 2\n}"),
            At = At,
        };

        var line = RatchetJson.ToJsonLine(auditEvent);

        Assert.DoesNotContain('\n', line);
        Assert.DoesNotContain("attempt", line, StringComparison.Ordinal);
        using var parsed = JsonDocument.Parse(line);
        var root = parsed.RootElement;
        Assert.Equal("wf-1", root.GetProperty("workflowId").GetString());
        Assert.Equal(3, root.GetProperty("sequence").GetInt64());
        Assert.Equal("node-completed", root.GetProperty("type").GetString());
        Assert.Equal("plan", root.GetProperty("node").GetString());
        Assert.Equal(2, root.GetProperty("payload").GetProperty("lines").GetInt32());
        Assert.Equal(At, root.GetProperty("at").GetDateTimeOffset());
    }

    [Fact]
    public async Task WriteSnapshotAsync_ThenReadSnapshotAsync_RoundTripsRecords()
    {
        var snapshot = new StoreSnapshot
        {
            Workflows =
            [
                new WorkflowRecord
                {
                    Id = "wf-1",
                    Type = "build",
                    Status = WorkflowStatus.Waiting,
                    WaitReason = WaitReason.Approval,
                    Input = RatchetJson.Parse("{\"issue\":42}"),
                    Artifacts = new Dictionary<string, JsonElement> { ["plan"] = RatchetJson.Parse("[1,2]") },
                    Error = new WorkflowError("x", "y"),
                    Version = 5,
                    CreatedAt = At,
                    UpdatedAt = At.AddMicroseconds(1),
                },
            ],
            Values =
            [
                new KeyValueEntry { Namespace = "ns", Key = "k", Value = RatchetJson.Parse("\"v\""), Version = 2, UpdatedAt = At },
            ],
            Checkpoints =
            [
                new CheckpointRecord
                {
                    Namespace = "ns",
                    Name = "cp",
                    CreatedAt = At,
                    Entries = new Dictionary<string, JsonElement> { ["k"] = RatchetJson.Parse("\"old\"") },
                },
            ],
        };
        using var stream = new MemoryStream();

        await RatchetJson.WriteSnapshotAsync(stream, snapshot);
        var text = Encoding.UTF8.GetString(stream.ToArray());
        stream.Position = 0;
        var read = await RatchetJson.ReadSnapshotAsync(stream);

        Assert.Contains("\"status\": \"Waiting\"", text, StringComparison.Ordinal);
        Assert.Contains("\"formatVersion\": 1", text, StringComparison.Ordinal);
        Assert.Equal(StoreSnapshot.CurrentFormatVersion, read.FormatVersion);
        var workflow = Assert.Single(read.Workflows);
        Assert.Equal(("wf-1", "build", WorkflowStatus.Waiting, WaitReason.Approval, 5L), (workflow.Id, workflow.Type, workflow.Status, workflow.WaitReason, workflow.Version));
        Assert.Equal(42, workflow.Input!.Value.GetProperty("issue").GetInt32());
        Assert.Equal(2, workflow.Artifacts["plan"].GetArrayLength());
        Assert.Equal(new WorkflowError("x", "y"), workflow.Error);
        Assert.Equal(At.AddMicroseconds(1), workflow.UpdatedAt);
        var value = Assert.Single(read.Values);
        Assert.Equal(("ns", "k", "v", 2L), (value.Namespace, value.Key, value.Value.GetString(), value.Version));
        var checkpoint = Assert.Single(read.Checkpoints);
        Assert.Equal("old", checkpoint.Entries["k"].GetString());
        Assert.Empty(read.Steps);
    }

    [Fact]
    public async Task ReadSnapshotAsync_NewerFormatVersion_ThrowsJsonExceptionNamingBothVersions()
    {
        var newer = StoreSnapshot.CurrentFormatVersion + 1;
        using var stream = new MemoryStream(Encoding.UTF8.GetBytes($"{{\"formatVersion\":{newer},\"workflows\":[]}}"));

        var ex = await Assert.ThrowsAsync<JsonException>(() => RatchetJson.ReadSnapshotAsync(stream));

        Assert.Equal(
            $"The export is in snapshot format {newer}; this Ratchet reads up to {StoreSnapshot.CurrentFormatVersion}. Upgrade Ratchet to import it.",
            ex.Message);
    }

    [Fact]
    public async Task ReadSnapshotAsync_JsonNull_ThrowsJsonException()
    {
        using var stream = new MemoryStream("null"u8.ToArray());

        var ex = await Assert.ThrowsAsync<JsonException>(() => RatchetJson.ReadSnapshotAsync(stream));

        Assert.Contains("empty (JSON null)", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ReadSnapshotAsync_CurrentFormatWithEveryListEmpty_IsAnEmptySnapshot()
    {
        const string json = """
            {
              "formatVersion": 1, // comments and trailing commas are tolerated in hand-edited files
              "workflows": [], "steps": [], "events": [], "commands": [],
              "workspaces": [], "values": [], "checkpoints": [],
            }
            """;
        using var stream = new MemoryStream(Encoding.UTF8.GetBytes(json));

        var snapshot = await RatchetJson.ReadSnapshotAsync(stream);

        Assert.True(snapshot.IsEmpty);
        Assert.Equal(1, snapshot.FormatVersion);
    }

    [Fact]
    public async Task ReadSnapshotAsync_EmptyObject_IsAnEmptySnapshotOfTheCurrentFormat()
    {
        using var stream = new MemoryStream("{}"u8.ToArray());

        var snapshot = await RatchetJson.ReadSnapshotAsync(stream);

        Assert.True(snapshot.IsEmpty);
        Assert.Equal(StoreSnapshot.CurrentFormatVersion, snapshot.FormatVersion);
    }

    private static string Nested(int depth, string inner = "") => new string('[', depth) + inner + new string(']', depth);

    [Fact]
    public void Parse_NestedToTheLimit_IsAcceptedAndOneDeeperIsRefusedAsTooDeepNotAsNotJson()
    {
        var atLimit = RatchetJson.Parse(Nested(RatchetJson.MaxDepth));
        var oneDeeper = Assert.Throws<JsonTooDeepException>(() => RatchetJson.Parse(Nested(RatchetJson.MaxDepth + 1), "The value for key 'k'"));
        var farDeeper = Assert.Throws<JsonTooDeepException>(() => RatchetJson.Parse(Nested(10_000)));

        Assert.Equal(64, RatchetJson.MaxDepth);
        Assert.False(RatchetJson.IsTooDeep(atLimit));
        Assert.StartsWith("The value for key 'k' is nested deeper than 64 levels of arrays and objects", oneDeeper.Message, StringComparison.Ordinal);
        Assert.Equal(("json-too-deep", "The JSON value"), (farDeeper.ErrorCode, farDeeper.Subject));
    }

    [Theory]
    [InlineData("[[[1,]]]")]
    [InlineData("{\"a\": [[[}")]
    [InlineData("not json")]
    public void Parse_SyntaxErrorBeforeTheLimit_IsStillNotJson(string text)
    {
        var exception = Assert.ThrowsAny<JsonException>(() => RatchetJson.Parse(text));

        Assert.IsNotType<JsonTooDeepException>(exception);
    }

    [Fact]
    public void EnsureDepth_ElementParsedDeeperElsewhere_IsRefusedNamingIt()
    {
        using var deep = JsonDocument.Parse(Nested(100), new JsonDocumentOptions { MaxDepth = 200 });
        using var objects = JsonDocument.Parse(string.Concat(Enumerable.Repeat("{\"a\":", 65)) + "1" + new string('}', 65), new JsonDocumentOptions { MaxDepth = 200 });

        var exception = Assert.Throws<JsonTooDeepException>(() => RatchetJson.EnsureDepth(deep.RootElement, "The output of node 'plan'"));

        Assert.Equal("The output of node 'plan'", exception.Subject);
        Assert.True(RatchetJson.IsTooDeep(objects.RootElement));
        Assert.False(RatchetJson.IsTooDeep(objects.RootElement.GetProperty("a")));
        RatchetJson.EnsureDepth(null, "nothing");
    }

    [Fact]
    public void EnsureInputDepth_ObjectInput_ChecksEachInputOnItsOwn()
    {
        var input = RatchetJson.ParseDocument($"{{\"ok\": {Nested(64)}, \"data\": {Nested(65)}}}");

        var exception = Assert.Throws<JsonTooDeepException>(() => RatchetJson.EnsureInputDepth(input));

        Assert.Equal("Input 'data'", exception.Subject);
        RatchetJson.EnsureInputDepth(RatchetJson.ParseDocument($"{{\"ok\": {Nested(64)}}}"));
        Assert.Throws<JsonTooDeepException>(() => RatchetJson.EnsureInputDepth(RatchetJson.ParseDocument(Nested(65))));
    }

    [Fact]
    public void ParseMap_ValuesNestedToTheLimit_ReadBack()
    {
        var map = RatchetJson.ParseMap($"{{\"plan\": {Nested(64)}}}");

        Assert.Equal(JsonValueKind.Array, map["plan"].ValueKind);
    }

    [Fact]
    public async Task WriteSnapshotAsync_ValuesNestedToTheLimitInEveryPlace_WriteAndReadBack()
    {
        var value = RatchetJson.Parse(Nested(64, "\"bottom\""));
        var snapshot = new StoreSnapshot
        {
            Workflows = [new WorkflowRecord
            {
                Id = "deep1", Type = "deep", Input = RatchetJson.ParseDocument($"{{\"data\": {value.GetRawText()}}}"), Metadata = value,
                Artifacts = new Dictionary<string, JsonElement> { ["plan"] = value }, CreatedAt = At, UpdatedAt = At, Version = 1,
            }],
            Steps = [new StepRecord { WorkflowId = "deep1", Sequence = 1, Node = "plan", Output = value, StartedAt = At, FinishedAt = At }],
            Values = [new KeyValueEntry { Namespace = "default", Key = "deep", Value = value, Version = 1, UpdatedAt = At }],
            Checkpoints = [new CheckpointRecord { Namespace = "default", Name = "c1", CreatedAt = At, Entries = new Dictionary<string, JsonElement> { ["deep"] = value } }],
        };
        using var stream = new MemoryStream();

        await RatchetJson.WriteSnapshotAsync(stream, snapshot);
        stream.Position = 0;
        var read = await RatchetJson.ReadSnapshotAsync(stream);
        var line = JsonSerializer.Serialize(snapshot.Checkpoints[0], RatchetJson.LineOptions);

        Assert.True(JsonElement.DeepEquals(value, read.Checkpoints[0].Entries["deep"]));
        Assert.True(JsonElement.DeepEquals(value, read.Workflows[0].Input!.Value.GetProperty("data")));
        Assert.True(JsonElement.DeepEquals(value, RatchetJson.ParseDocument(line).GetProperty("entries").GetProperty("deep")));
    }

    [Fact]
    public async Task ReadSnapshotAsync_ValueDeeperThanTheLimit_IsRefusedNamingIt()
    {
        var text = $"{{\"values\": [{{\"namespace\": \"default\", \"key\": \"deep\", \"value\": {Nested(65)}, \"version\": 1}}]}}";
        using var stream = new MemoryStream(Encoding.UTF8.GetBytes(text));

        var exception = await Assert.ThrowsAsync<JsonTooDeepException>(() => RatchetJson.ReadSnapshotAsync(stream));

        Assert.Equal("The value of key 'deep' in namespace 'default'", exception.Subject);
    }
}
