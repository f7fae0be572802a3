using Ratchet.Conformance;

namespace Ratchet.Redis.Tests;

// The storage contract's conformance suite, run on the Redis store. Every test lives in Ratchet.Conformance.

public sealed class RedisWorkflowConformanceTests : WorkflowConformanceTests<RedisStoreFactory>;

public sealed class RedisLifecycleConformanceTests : LifecycleConformanceTests<RedisStoreFactory>;

public sealed class RedisChangeSetConformanceTests : ChangeSetConformanceTests<RedisStoreFactory>;

public sealed class RedisJournalConformanceTests : JournalConformanceTests<RedisStoreFactory>;

public sealed class RedisKeyValueConformanceTests : KeyValueConformanceTests<RedisStoreFactory>;

public sealed class RedisLeaseConformanceTests : LeaseConformanceTests<RedisStoreFactory>;

public sealed class RedisArchiveConformanceTests : ArchiveConformanceTests<RedisStoreFactory>;

public sealed class RedisExportImportConformanceTests : ExportImportConformanceTests<RedisStoreFactory>;

public sealed class RedisConcurrencyConformanceTests : ConcurrencyConformanceTests<RedisStoreFactory>;

public sealed class RedisAgentDirectoryConformanceTests : AgentDirectoryConformanceTests<RedisStoreFactory>;

public sealed class RedisQueueConformanceTests : QueueConformanceTests<RedisStoreFactory>;

public sealed class RedisSignalConformanceTests : SignalConformanceTests<RedisStoreFactory>;

public sealed class RedisForkConformanceTests : ForkConformanceTests<RedisStoreFactory>;
