using Ratchet.Conformance;

namespace Ratchet.Sqlite.Tests;

// The storage contract's conformance suite, run on SQLite. Every test lives in Ratchet.Conformance.

public sealed class SqliteWorkflowConformanceTests : WorkflowConformanceTests<SqliteStoreFactory>;

public sealed class SqliteLifecycleConformanceTests : LifecycleConformanceTests<SqliteStoreFactory>;

public sealed class SqliteChangeSetConformanceTests : ChangeSetConformanceTests<SqliteStoreFactory>;

public sealed class SqliteJournalConformanceTests : JournalConformanceTests<SqliteStoreFactory>;

public sealed class SqliteKeyValueConformanceTests : KeyValueConformanceTests<SqliteStoreFactory>;

public sealed class SqliteLeaseConformanceTests : LeaseConformanceTests<SqliteStoreFactory>;

public sealed class SqliteArchiveConformanceTests : ArchiveConformanceTests<SqliteStoreFactory>;

public sealed class SqliteExportImportConformanceTests : ExportImportConformanceTests<SqliteStoreFactory>;

public sealed class SqliteConcurrencyConformanceTests : ConcurrencyConformanceTests<SqliteStoreFactory>;

public sealed class SqliteAgentDirectoryConformanceTests : AgentDirectoryConformanceTests<SqliteStoreFactory>;

public sealed class SqliteQueueConformanceTests : QueueConformanceTests<SqliteStoreFactory>;

public sealed class SqliteSignalConformanceTests : SignalConformanceTests<SqliteStoreFactory>;

public sealed class SqliteForkConformanceTests : ForkConformanceTests<SqliteStoreFactory>;
