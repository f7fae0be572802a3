using Ratchet.Conformance;

namespace Ratchet.Postgres.Tests;

// The storage contract's conformance suite, run on PostgreSQL. Every test lives in Ratchet.Conformance.

public sealed class PostgresWorkflowConformanceTests : WorkflowConformanceTests<PostgresStoreFactory>;

public sealed class PostgresLifecycleConformanceTests : LifecycleConformanceTests<PostgresStoreFactory>;

public sealed class PostgresChangeSetConformanceTests : ChangeSetConformanceTests<PostgresStoreFactory>;

public sealed class PostgresJournalConformanceTests : JournalConformanceTests<PostgresStoreFactory>;

public sealed class PostgresKeyValueConformanceTests : KeyValueConformanceTests<PostgresStoreFactory>;

public sealed class PostgresLeaseConformanceTests : LeaseConformanceTests<PostgresStoreFactory>;

public sealed class PostgresArchiveConformanceTests : ArchiveConformanceTests<PostgresStoreFactory>;

public sealed class PostgresExportImportConformanceTests : ExportImportConformanceTests<PostgresStoreFactory>;

public sealed class PostgresConcurrencyConformanceTests : ConcurrencyConformanceTests<PostgresStoreFactory>;

public sealed class PostgresAgentDirectoryConformanceTests : AgentDirectoryConformanceTests<PostgresStoreFactory>;

public sealed class PostgresQueueConformanceTests : QueueConformanceTests<PostgresStoreFactory>;

public sealed class PostgresSignalConformanceTests : SignalConformanceTests<PostgresStoreFactory>;

public sealed class PostgresForkConformanceTests : ForkConformanceTests<PostgresStoreFactory>;
