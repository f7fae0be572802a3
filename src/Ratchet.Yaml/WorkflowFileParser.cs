using System.Globalization;
using System.Text.Json;
using Ratchet.Expressions;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace Ratchet.Yaml;

/// <summary>
/// Reads a workflow file into a <see cref="WorkflowFile"/>, checking everything that can be checked without running
/// it: structure, types, durations, references between nodes, conditions and templates. Every problem is collected,
/// with its line and column, and reported at once.
/// </summary>
public static class WorkflowFileParser
{
    /// <summary>The target that ends the workflow.</summary>
    public const string EndTarget = "end";

    /// <summary>How many aliases (<c>*name</c>) a file may use.</summary>
    public const int MaxAliases = 1_000;

    /// <summary>
    /// How many values a file's aliases may repeat in all, each alias counting every value its anchor holds (aliases
    /// inside expanded too): the guard against alias bombs, where anchors that alias anchors multiply.
    /// </summary>
    public const int MaxAliasExpansion = 100_000;

    /// <summary>How deep sequences and mappings may nest.</summary>
    public const int MaxDepth = 64;

    private static readonly string[] TopKeys = ["name", "description", "version", "inputs", "defaults", "workspace", "timeout", "max_visits", "queue", "nodes"];
    private static readonly string[] QueueKeys = ["name", "partition", "priority", "concurrency", "per_worker", "rate", "partition_concurrency"];
    private static readonly string[] CommonNodeKeys = ["description", "retry", "timeout", "next", "on", "fails_workflow"];
    private static readonly string[] DefaultKeys = ["retry", "timeout", "env", "working_directory"];
    private static readonly string[] InputKeys = ["type", "required", "default", "description"];
    private static readonly string[] RetryKeys = ["max_attempts", "delay", "backoff", "max_delay", "jitter"];

    /// <summary>Reads and validates the file at <paramref name="path"/>.</summary>
    /// <exception cref="WorkflowFileException">The file is missing or invalid; every problem is listed.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled.</exception>
    public static WorkflowFile Load(string path, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        var full = System.IO.Path.GetFullPath(path);
        if (!File.Exists(full))
        {
            throw new WorkflowFileException([new WorkflowFileProblem(path, null, "The file does not exist. Check the path (relative paths are relative to the current directory).")]);
        }

        return Parse(File.ReadAllText(full), full, displayPath: path, cancellationToken);
    }

    /// <summary>
    /// Reads and validates workflow text as if it were the file at <paramref name="path"/>. A file past
    /// <see cref="MaxAliases"/>, <see cref="MaxAliasExpansion"/> or <see cref="MaxDepth"/>, or with an alias inside the
    /// value it names, is refused as soon as the parser meets the alias (or value) that passes, at its position.
    /// </summary>
    /// <exception cref="WorkflowFileException">The text is invalid; every problem is listed.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled.</exception>
    public static WorkflowFile Parse(string text, string path, string? displayPath = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(text);
        var reader = new Reader(displayPath ?? path, cancellationToken);
        var file = reader.Read(text, System.IO.Path.GetFullPath(path));
        if (reader.Problems.Count > 0 || file is null)
        {
            throw new WorkflowFileException(reader.Problems.OrderBy(p => p.Position?.Line ?? 0).ThenBy(p => p.Position?.Column ?? 0).ToArray());
        }

        return file;
    }

    /// <summary>Reads one file, collecting its problems; node readers check their keys with it.</summary>
    internal sealed class Reader(string file, CancellationToken cancellationToken)
    {
        private string[]? _lines;

        public List<WorkflowFileProblem> Problems { get; } = [];

        public WorkflowFile? Read(string text, string fullPath)
        {
            _lines = text.Split('\n');
            var stream = new YamlStream();
            try
            {
                stream.Load(new LimitedYamlParser(new YamlDotNet.Core.Parser(new StringReader(text)), cancellationToken));
            }
            catch (YamlException ex) when ((ex as YamlLimitException ?? ex.InnerException as YamlLimitException) is { } limit)
            {
                Problem(new SourcePosition((int)limit.Start.Line, (int)limit.Start.Column), limit.Message);
                return null;
            }
            catch (YamlException ex)
            {
                Problem(new SourcePosition((int)ex.Start.Line, (int)ex.Start.Column), $"this is not valid YAML: {(ex.InnerException ?? ex).Message.TrimEnd('.')}.");
                return null;
            }

            if (stream.Documents.Count == 0 || stream.Documents[0].RootNode is not YamlMappingNode root)
            {
                Problem(position: null, "The file is empty or not a mapping; it needs at least 'name:' and 'nodes:'.");
                return null;
            }

            string? name = null, description = null, version = null;
            var inputs = new List<InputSpec>();
            var defaults = new NodeDefaults();
            var workspace = WorkspaceMode.Shared;
            TimeSpan? timeout = null;
            int? maxVisits = null;
            QueueSpec? queue = null;
            YamlMappingNode? nodes = null;
            foreach (var (keyNode, value) in root.Children)
            {
                var key = Key(keyNode);
                switch (key)
                {
                    case "name":
                        name = Text(value, "name");
                        if (name is not null && !WorkflowIds.IsValid(name, out _))
                        {
                            Problem(At(value), $"the name '{name}' must be letters, digits, '-', '_' or '.', starting with a letter or digit (it becomes the workflow type).");
                        }

                        break;
                    case "description":
                        description = Text(value, "description");
                        break;
                    case "version":
                        version = Text(value, "version");
                        break;
                    case "inputs":
                        inputs.AddRange(ReadInputs(value));
                        break;
                    case "defaults":
                        defaults = ReadDefaults(value);
                        break;
                    case "workspace":
                        workspace = Text(value, "workspace") switch
                        {
                            "isolated" => WorkspaceMode.Isolated,
                            "shared" or null => WorkspaceMode.Shared,
                            var other => Invalid(value, $"workspace is '{other}'; write 'isolated' (a directory per run) or 'shared'.", WorkspaceMode.Shared),
                        };
                        break;
                    case "timeout":
                        timeout = Duration(value, "timeout");
                        break;
                    case "max_visits":
                        maxVisits = Integer(value, "max_visits");
                        if (maxVisits < 1)
                        {
                            Problem(At(value), $"'max_visits' is {maxVisits}; it must be at least 1 (how many nodes one run may visit before it fails as a loop whose exit never holds).");
                        }

                        break;
                    case "queue":
                        queue = ReadQueue(value);
                        break;
                    case "nodes":
                        nodes = value as YamlMappingNode;
                        if (nodes is null)
                        {
                            Problem(At(value), "'nodes' must be a mapping of node names to nodes, e.g.\n  nodes:\n    plan:\n      run: ./plan.sh");
                        }

                        break;
                    default:
                        Unknown(keyNode, key, "at the top of the file", TopKeys);
                        break;
                }
            }

            if (name is null)
            {
                Problem(At(root), "the workflow has no 'name:'; add one, e.g. name: issue-implementation.");
            }

            if (nodes is null)
            {
                if (!root.Children.ContainsKey(new YamlScalarNode("nodes")))
                {
                    Problem(At(root), "the workflow has no 'nodes:'; add at least one node.");
                }

                return null;
            }

            var specs = new List<NodeSpec>();
            foreach (var (keyNode, value) in nodes.Children)
            {
                cancellationToken.ThrowIfCancellationRequested();
                var nodeName = Key(keyNode);
                if (nodeName == EndTarget)
                {
                    Problem(At(keyNode), $"a node cannot be called '{EndTarget}': that word means the end of the workflow.");
                    continue;
                }

                if (ReadNode(nodeName, keyNode, value) is { } spec)
                {
                    specs.Add(spec);
                }
            }

            if (specs.Count == 0 && nodes.Children.Count == 0)
            {
                Problem(At(nodes), "'nodes' is empty; add at least one node.");
            }

            CheckReferences(specs);
            return name is null || Problems.Count > 0
                ? null
                : new WorkflowFile
                {
                    Path = fullPath,
                    Text = text,
                    Name = name,
                    Description = description,
                    VersionLabel = version,
                    Inputs = inputs,
                    Defaults = defaults,
                    Workspace = workspace,
                    Timeout = timeout,
                    MaxVisits = maxVisits,
                    Queue = queue,
                    Nodes = specs,
                };
        }

        /// <summary><c>queue: llm</c>, or a mapping with the name, the run's partition and priority, and the queue's limits.</summary>
        private QueueSpec? ReadQueue(YamlNode node)
        {
            if (node is YamlScalarNode)
            {
                var text = Text(node, "queue");
                return text is null ? null : QueueName(node, text) is { } name ? new QueueSpec { Name = name } : null;
            }

            if (node is not YamlMappingNode mapping)
            {
                Problem(At(node), "'queue' must be a queue's name or a mapping, e.g.\n  queue: { name: llm, partition: \"{{ inputs.repo }}\", concurrency: 2, rate: 5/1s }");
                return null;
            }

            string? queueName = null, partition = null, priority = null, rate = null;
            int? concurrency = null, perWorker = null, partitionConcurrency = null;
            YamlNode? rateNode = null;
            foreach (var (keyNode, value) in mapping.Children)
            {
                switch (Key(keyNode))
                {
                    case "name": queueName = Text(value, "queue name") is { } n ? QueueName(value, n) : null; break;
                    case "partition":
                        partition = Text(value, "queue partition");
                        if (partition is not null)
                        {
                            CheckTemplate(partition, value, "the queue's partition");
                        }

                        break;
                    case "priority":
                        priority = Text(value, "queue priority");
                        if (priority is not null && !int.TryParse(priority, System.Globalization.NumberStyles.AllowLeadingSign, System.Globalization.CultureInfo.InvariantCulture, out _))
                        {
                            CheckTemplate(priority, value, "the queue's priority");
                        }

                        break;
                    case "concurrency": concurrency = Integer(value, "queue concurrency"); break;
                    case "per_worker": perWorker = Integer(value, "queue per_worker"); break;
                    case "partition_concurrency": partitionConcurrency = Integer(value, "queue partition_concurrency"); break;
                    case "rate": rate = Text(value, "queue rate"); rateNode = value; break;
                    default: Unknown(keyNode, Key(keyNode), "in 'queue'", QueueKeys); break;
                }
            }

            if (queueName is null)
            {
                Problem(At(mapping), "'queue' has no 'name:'; name the queue, e.g. name: llm.");
                return null;
            }

            Queues.QueueDefinition? limits = null;
            if (concurrency is not null || perWorker is not null || rate is not null || partitionConcurrency is not null)
            {
                try
                {
                    var (rateLimit, ratePeriod) = rate is null ? ((int?)null, (TimeSpan?)null) : Queues.QueueDefinition.ParseRate(queueName, rate);
                    limits = new Queues.QueueDefinition
                    {
                        Name = queueName, Concurrency = concurrency, PerWorker = perWorker, RateLimit = rateLimit, RatePeriod = ratePeriod,
                        PartitionConcurrency = partitionConcurrency ?? 1,
                    };
                    limits.Validate();
                }
                catch (Queues.QueueDefinitionException ex)
                {
                    Problem(At(rateNode ?? mapping), ex.Message);
                    return null;
                }
            }

            return new QueueSpec { Name = queueName, Partition = partition, Priority = priority, Limits = limits };
        }

        private string? QueueName(YamlNode at, string name)
        {
            if (WorkflowIds.IsValid(name, out _))
            {
                return name;
            }

            Problem(At(at), $"the queue name '{name}' must be 1 to 64 letters, digits, '-', '_' or '.', starting with a letter or digit.");
            return null;
        }

        private IEnumerable<InputSpec> ReadInputs(YamlNode node)
        {
            if (node is not YamlMappingNode mapping)
            {
                Problem(At(node), "'inputs' must be a mapping of input names to their type, e.g.\n  inputs:\n    issue: { type: int }");
                yield break;
            }

            foreach (var (keyNode, value) in mapping.Children)
            {
                var name = Key(keyNode);
                var type = InputType.String;
                bool? required = null;
                JsonElement? defaultValue = null;
                string? description = null;
                if (value is YamlScalarNode { Value: { Length: > 0 } shorthand })
                {
                    type = InputTypeOf(shorthand, value);
                }
                else if (value is YamlMappingNode spec)
                {
                    foreach (var (k, v) in spec.Children)
                    {
                        switch (Key(k))
                        {
                            case "type":
                                type = InputTypeOf(Text(v, "type") ?? "string", v);
                                break;
                            case "required":
                                required = Boolean(v, "required");
                                break;
                            case "default":
                                defaultValue = ToJson(v);
                                break;
                            case "description":
                                description = Text(v, "description");
                                break;
                            default:
                                Unknown(k, Key(k), $"in input '{name}'", InputKeys);
                                break;
                        }
                    }
                }
                else if (value is not YamlScalarNode)
                {
                    Problem(At(value), $"input '{name}' must be a type (string, int, number, bool, json) or a mapping with 'type', 'required', 'default'.");
                }

                yield return new InputSpec(name, type, required ?? defaultValue is null, defaultValue, description, At(keyNode));
            }
        }

        private NodeDefaults ReadDefaults(YamlNode node)
        {
            if (node is not YamlMappingNode mapping)
            {
                Problem(At(node), "'defaults' must be a mapping with 'retry', 'timeout', 'env' or 'working_directory'.");
                return new NodeDefaults();
            }

            var defaults = new NodeDefaults();
            foreach (var (keyNode, value) in mapping.Children)
            {
                defaults = Key(keyNode) switch
                {
                    "retry" => defaults with { Retry = Retry(value) },
                    "timeout" => defaults with { Timeout = Duration(value, "timeout") },
                    "env" => defaults with { Env = Environment(value) },
                    "working_directory" => defaults with { WorkingDirectory = Text(value, "working_directory") },
                    var other => UnknownReturning(keyNode, other, "in 'defaults'", DefaultKeys, defaults),
                };
            }

            return defaults;
        }

        private NodeSpec? ReadNode(string name, YamlNode keyNode, YamlNode node)
        {
            if (!WorkflowIds.IsValid(name, out _))
            {
                Problem(At(keyNode), $"node name '{name}' must be letters, digits, '-', '_' or '.', starting with a letter or digit.");
                return null;
            }

            if (node is not YamlMappingNode mapping)
            {
                Problem(At(node), $"node '{name}' must be a mapping with one of {NodeReaders.Choice(r => $"'{r.Verb}'")}.");
                return null;
            }

            var verbs = mapping.Children.Where(c => NodeReaders.ByVerb.ContainsKey(Key(c.Key))).ToList();
            var reader = verbs.Count == 1 ? NodeReaders.ByVerb[Key(verbs[0].Key)] : null;
            string? description = null, next = null;
            SourcePosition? nextAt = null;
            var transitions = new List<TransitionSpec>();
            RetrySpec? retry = null;
            TimeSpan? timeout = null;
            var failsWorkflow = false;
            var own = new Dictionary<string, YamlNode>(StringComparer.Ordinal);
            foreach (var (keyNode2, value) in mapping.Children)
            {
                var key = Key(keyNode2);
                switch (key)
                {
                    case var verb when NodeReaders.ByVerb.ContainsKey(verb):
                        break;
                    case "description":
                        description = Text(value, "description");
                        break;
                    case "retry":
                        retry = Retry(value);
                        break;
                    case "timeout":
                        timeout = Duration(value, "timeout");
                        break;
                    case "next":
                        next = Text(value, "next");
                        nextAt = At(value);
                        break;
                    case "on":
                        transitions.AddRange(Transitions(name, value));
                        break;
                    case "fails_workflow":
                        failsWorkflow = Boolean(value, "fails_workflow");
                        break;
                    case var _ when reader?.Keys.Contains(key) == true:
                        own[key] = value;
                        break;
                    default:
                        var owners = NodeReaders.All.Where(r => r.Keys.Contains(key)).ToList();
                        if (owners.Count == 0)
                        {
                            Unknown(keyNode2, key, $"in node '{name}'", [.. NodeReaders.All.Select(r => r.Verb), .. CommonNodeKeys, .. reader?.Keys ?? NodeReaders.All.SelectMany(r => r.Keys).Distinct()]);
                        }
                        else if (reader is not null)
                        {
                            Problem(At(keyNode2), $"node '{name}' has '{key}:', which only applies to {string.Join(" and ", owners.Select(r => $"'{r.Verb}:'"))} nodes.");
                        }

                        break;
                }
            }

            if (reader is null)
            {
                Problem(At(keyNode), verbs.Count == 0
                    ? $"node '{name}' does nothing: give it one of {NodeReaders.Choice(r => $"'{r.Verb}:' ({r.Summary})")}."
                    : $"node '{name}' has {string.Join(" and ", verbs.Select(v => $"'{Key(v.Key)}:'"))}; a node does exactly one of them.");
                return null;
            }

            foreach (var transition in transitions.Where(t => !reader.Takes(t.Kind)))
            {
                Problem(transition.Position, $"'on: {transition.Key}' does not apply to node '{name}', a {reader.Verb} node.");
            }

            return reader.Read(new NodeReading(this, name, verbs[0].Value, own)) is { } spec
                ? spec with
                {
                    Name = name,
                    Position = At(keyNode),
                    Description = description,
                    Retry = retry,
                    Timeout = timeout,
                    Next = next,
                    NextPosition = nextAt,
                    Transitions = transitions,
                    FailsWorkflow = failsWorkflow,
                    Reader = reader,
                }
                : null;
        }

        private IEnumerable<TransitionSpec> Transitions(string node, YamlNode value)
        {
            if (value is not YamlMappingNode mapping)
            {
                Problem(At(value), $"'on' of node '{node}' must map outcomes to nodes, e.g.\n  on:\n    failure: report\n    exit 3: needs-info");
                yield break;
            }

            foreach (var (keyNode, targetNode) in mapping.Children)
            {
                var key = Key(keyNode);
                var target = Text(targetNode, $"the target of 'on: {key}'");
                if (target is null)
                {
                    continue;
                }

                var at = At(keyNode);
                if (key == "success")
                {
                    yield return new TransitionSpec(TransitionKind.Success, key, target, at);
                }
                else if (key == "failure")
                {
                    yield return new TransitionSpec(TransitionKind.Failure, key, target, at);
                }
                else if (key == "approved")
                {
                    yield return new TransitionSpec(TransitionKind.Approved, key, target, at);
                }
                else if (key == "rejected")
                {
                    yield return new TransitionSpec(TransitionKind.Rejected, key, target, at);
                }
                else if (key == "timeout")
                {
                    yield return new TransitionSpec(TransitionKind.Timeout, key, target, at);
                }
                else if (key.StartsWith("exit ", StringComparison.Ordinal) || key.StartsWith("exit_", StringComparison.Ordinal))
                {
                    if (int.TryParse(key[5..].Trim(), NumberStyles.Integer, CultureInfo.InvariantCulture, out var code) && code is > 0 and < 256)
                    {
                        yield return new TransitionSpec(TransitionKind.ExitCode, $"exit {code}", target, at) { ExitCode = code };
                    }
                    else
                    {
                        Problem(at, $"'{key}' needs an exit code from 1 to 255, e.g. 'exit 3'.");
                    }
                }
                else if (ConditionProblem(key) is { } problem)
                {
                    Problem(at, $"'on' of node '{node}' has '{key}', which is not success, failure, 'exit N', approved, rejected, timeout, or a valid condition: {problem}");
                }
                else
                {
                    yield return new TransitionSpec(TransitionKind.Condition, key, target, at);
                }
            }
        }

        private static string? ConditionProblem(string condition)
        {
            try
            {
                Expression.Parse(condition);
                return null;
            }
            catch (ExpressionException ex)
            {
                return ex.Message;
            }
        }

        private void CheckReferences(List<NodeSpec> nodes)
        {
            var names = nodes.Select(n => n.Name).ToHashSet(StringComparer.Ordinal);
            void Check(string target, SourcePosition? at, string what)
            {
                if (target != EndTarget && !names.Contains(target))
                {
                    var close = names.FirstOrDefault(n => Distance(n, target) <= 2);
                    Problem(at, $"{what} goes to '{target}', which is not a node{(close is null ? "" : $" (did you mean '{close}'?)")}; write a node's name or '{EndTarget}'.");
                }
            }

            foreach (var node in nodes)
            {
                if (node.Next is { } next)
                {
                    Check(next, node.NextPosition, $"'next' of node '{node.Name}'");
                }

                foreach (var transition in node.Transitions)
                {
                    Check(transition.Target, transition.Position, $"'on: {transition.Key}' of node '{node.Name}'");
                }
            }
        }

        public void CheckTemplate(string template, YamlNode at, string what, bool shell = false)
        {
            Template parsed;
            try
            {
                parsed = Template.Parse(template);
            }
            catch (ExpressionException ex)
            {
                Problem(At(at), $"{what} has a bad template: {ex.Message}");
                return;
            }

            if (shell)
            {
                foreach (var problem in parsed.FindShellProblems())
                {
                    Problem(HoleAt(at, template, problem.Position), $"in {what}, {problem.Reason}.");
                }
            }
        }

        /// <summary>
        /// Where the character at <paramref name="offset"/> of a scalar's value is in the file: exact for a literal block
        /// (<c>run: |</c>) and for a one-line value, checked against the text; else the scalar's start.
        /// </summary>
        private SourcePosition HoleAt(YamlNode node, string value, int offset)
        {
            var start = At(node);
            if (node is not YamlScalarNode scalar || _lines is null)
            {
                return start;
            }

            SourcePosition? guess = null;
            var newlines = value.AsSpan(0, offset).Count('\n');
            var column = offset - (offset == 0 ? 0 : value.LastIndexOf('\n', offset - 1) + 1);

            if (scalar.Style == ScalarStyle.Literal)
            {
                // The block's lines follow the indicator's line, all at the indentation of its first non-empty line.
                var first = start.Line;
                while (first < _lines.Length && _lines[first].Trim().Length == 0)
                {
                    first++;
                }

                if (first < _lines.Length)
                {
                    var indent = _lines[first].Length - _lines[first].TrimStart(' ').Length;
                    guess = new SourcePosition(start.Line + 1 + newlines, indent + column + 1);
                }
            }
            else if (newlines == 0 && !value.Contains('\n', StringComparison.Ordinal))
            {
                var quoted = scalar.Style is ScalarStyle.SingleQuoted or ScalarStyle.DoubleQuoted ? 1 : 0;
                guess = new SourcePosition(start.Line, start.Column + quoted + offset);
            }

            return guess is { } at && at.Line - 1 < _lines.Length && at.Column - 1 >= 0 &&
                string.CompareOrdinal(_lines[at.Line - 1], at.Column - 1, "{{", 0, 2) == 0
                    ? at
                    : start;
        }

        private RetrySpec? Retry(YamlNode node)
        {
            var retry = new RetrySpec(3, TimeSpan.FromSeconds(1), 2, TimeSpan.FromMinutes(5), 0.2);
            if (node is YamlScalarNode)
            {
                var attempts = Integer(node, "retry");
                return attempts is null ? null : retry with { MaxAttempts = attempts.Value };
            }

            if (node is not YamlMappingNode mapping)
            {
                Problem(At(node), "'retry' must be a number of attempts or a mapping with max_attempts, delay, backoff, max_delay, jitter.");
                return null;
            }

            foreach (var (keyNode, value) in mapping.Children)
            {
                retry = Key(keyNode) switch
                {
                    "max_attempts" => retry with { MaxAttempts = Integer(value, "max_attempts") ?? retry.MaxAttempts },
                    "delay" => retry with { Delay = Duration(value, "delay") ?? retry.Delay },
                    "backoff" => retry with { Backoff = Number(value, "backoff") ?? retry.Backoff },
                    "max_delay" => retry with { MaxDelay = Duration(value, "max_delay") ?? retry.MaxDelay },
                    "jitter" => retry with { Jitter = Number(value, "jitter") ?? retry.Jitter },
                    var other => UnknownReturning(keyNode, other, "in 'retry'", RetryKeys, retry),
                };
            }

            if (retry.MaxAttempts < 1)
            {
                Problem(At(node), $"max_attempts is {retry.MaxAttempts}; it must be at least 1.");
            }

            if (retry.Backoff < 1)
            {
                Problem(At(node), $"backoff is {retry.Backoff}; it must be at least 1.");
            }

            if (retry.Jitter is < 0 or > 1)
            {
                Problem(At(node), $"jitter is {retry.Jitter}; it must be between 0 and 1.");
            }

            return retry;
        }

        public List<KeyValuePair<string, string>> Environment(YamlNode node, string what = "env")
        {
            var pairs = new List<KeyValuePair<string, string>>();
            if (node is not YamlMappingNode mapping)
            {
                Problem(At(node), $"'{what}' must be a mapping of names to values.");
                return pairs;
            }

            foreach (var (keyNode, value) in mapping.Children)
            {
                var text = value is YamlScalarNode scalar ? scalar.Value ?? "" : JsonSerializer.Serialize(ToJson(value));
                pairs.Add(new(Key(keyNode), text));
            }

            return pairs;
        }

        private InputType InputTypeOf(string text, YamlNode at) => text switch
        {
            "string" or "text" => InputType.String,
            "int" or "integer" => InputType.Integer,
            "number" or "float" => InputType.Number,
            "bool" or "boolean" => InputType.Boolean,
            "json" or "object" or "any" => InputType.Json,
            _ => Invalid(at, $"input type '{text}' is unknown; use string, int, number, bool or json.", InputType.String),
        };

        public TimeSpan? Duration(YamlNode node, string what)
        {
            var text = Text(node, what);
            if (text is null)
            {
                return null;
            }

            if (Durations.TryParse(text, out var duration, out var problem))
            {
                return duration;
            }

            Problem(At(node), $"{what}: {problem}.");
            return null;
        }

        public int? Integer(YamlNode node, string what)
        {
            var text = Text(node, what);
            if (text is not null && int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var value))
            {
                return value;
            }

            Problem(At(node), $"{what} must be a whole number, not '{text}'.");
            return null;
        }

        private double? Number(YamlNode node, string what)
        {
            var text = Text(node, what);
            if (text is not null && double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var value))
            {
                return value;
            }

            Problem(At(node), $"{what} must be a number, not '{text}'.");
            return null;
        }

        public bool Boolean(YamlNode node, string what)
        {
            switch (Text(node, what))
            {
                case "true" or "yes" or "on":
                    return true;
                case "false" or "no" or "off":
                    return false;
                case var other:
                    Problem(At(node), $"{what} must be true or false, not '{other}'.");
                    return false;
            }
        }

        public string? Text(YamlNode node, string what)
        {
            if (node is YamlScalarNode scalar)
            {
                return scalar.Value;
            }

            Problem(At(node), $"{what} must be a single value, not a {(node is YamlSequenceNode ? "list" : "mapping")}.");
            return null;
        }

        public T Invalid<T>(YamlNode at, string message, T fallback)
        {
            Problem(At(at), message);
            return fallback;
        }

        public void Unknown(YamlNode at, string key, string where, string[] known)
        {
            var close = known.FirstOrDefault(k => Distance(k, key) <= 2);
            Problem(At(at), close is null
                ? $"unknown key '{key}' {where}; known keys are {string.Join(", ", known)}."
                : $"unknown key '{key}' {where} (did you mean '{close}'?).");
        }

        private T UnknownReturning<T>(YamlNode at, string key, string where, string[] known, T value)
        {
            Unknown(at, key, where, known);
            return value;
        }

        /// <summary>What the verb or key <paramref name="what"/> makes of standard output (or a response body): <c>json</c>, <c>text</c> (default) or <c>none</c>.</summary>
        public OutputMode Outputs(YamlNode value, string what = "outputs") => Text(value, what) switch
        {
            "json" => OutputMode.Json,
            "text" or null => OutputMode.Text,
            "none" => OutputMode.None,
            var other => Invalid(value, $"{what} is '{other}'; write json, text or none.", OutputMode.Text),
        };

        public void Problem(YamlNode at, string message) => Problem(At(at), message);

        public void Problem(SourcePosition? position, string message) => Problems.Add(new WorkflowFileProblem(file, position, Capitalize(message)));

        private static string Capitalize(string message) => message.Length > 0 && char.IsLower(message[0]) ? char.ToUpperInvariant(message[0]) + message[1..] : message;

        public static string Key(YamlNode node) => node is YamlScalarNode scalar ? scalar.Value ?? "" : node.ToString();

        public static SourcePosition At(YamlNode node) => new((int)node.Start.Line, (int)node.Start.Column);
    }

    /// <summary>A YAML value as JSON: scalars typed the way YAML 1.2's core schema reads unquoted text.</summary>
    internal static JsonElement ToJson(YamlNode node) => JsonSerializer.SerializeToElement(ToObject(node));

    private static object? ToObject(YamlNode node) => node switch
    {
        YamlMappingNode mapping => mapping.Children.ToDictionary(kv => kv.Key is YamlScalarNode s ? s.Value ?? "" : kv.Key.ToString(), kv => ToObject(kv.Value)),
        YamlSequenceNode sequence => sequence.Children.Select(ToObject).ToList(),
        YamlScalarNode { Style: ScalarStyle.SingleQuoted or ScalarStyle.DoubleQuoted or ScalarStyle.Literal or ScalarStyle.Folded } quoted => quoted.Value,
        YamlScalarNode scalar => scalar.Value switch
        {
            null or "" or "~" or "null" => null,
            "true" => true,
            "false" => false,
            var text when long.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var whole) => whole,
            var text when double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var real) => real,
            var text => text,
        },
        _ => null,
    };

    /// <summary>Levenshtein distance, for "did you mean" hints.</summary>
    internal static int Distance(string a, string b)
    {
        var previous = new int[b.Length + 1];
        var current = new int[b.Length + 1];
        for (var j = 0; j <= b.Length; j++)
        {
            previous[j] = j;
        }

        for (var i = 1; i <= a.Length; i++)
        {
            current[0] = i;
            for (var j = 1; j <= b.Length; j++)
            {
                var cost = a[i - 1] == b[j - 1] ? 0 : 1;
                current[j] = Math.Min(Math.Min(current[j - 1] + 1, previous[j] + 1), previous[j - 1] + cost);
            }

            (previous, current) = (current, previous);
        }

        return previous[b.Length];
    }
}
