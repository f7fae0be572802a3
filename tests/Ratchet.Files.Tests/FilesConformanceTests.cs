using Ratchet.Conformance;

namespace Ratchet.Files.Tests;

// The storage contract's conformance suite, run on the JSON-file store. Every test lives in Ratchet.Conformance.

public sealed class FilesWorkflowConformanceTests : WorkflowConformanceTests<FilesStoreFactory>;

public sealed class FilesLifecycleConformanceTests : LifecycleConformanceTests<FilesStoreFactory>;

public sealed class FilesChangeSetConformanceTests : ChangeSetConformanceTests<FilesStoreFactory>;

public sealed class FilesJournalConformanceTests : JournalConformanceTests<FilesStoreFactory>;

public sealed class FilesKeyValueConformanceTests : KeyValueConformanceTests<FilesStoreFactory>;

public sealed class FilesLeaseConformanceTests : LeaseConformanceTests<FilesStoreFactory>;

public sealed class FilesArchiveConformanceTests : ArchiveConformanceTests<FilesStoreFactory>;

public sealed class FilesExportImportConformanceTests : ExportImportConformanceTests<FilesStoreFactory>;

public sealed class FilesConcurrencyConformanceTests : ConcurrencyConformanceTests<FilesStoreFactory>;

public sealed class FilesAgentDirectoryConformanceTests : AgentDirectoryConformanceTests<FilesStoreFactory>;

public sealed class FilesQueueConformanceTests : QueueConformanceTests<FilesStoreFactory>;

public sealed class FilesSignalConformanceTests : SignalConformanceTests<FilesStoreFactory>;

public sealed class FilesForkConformanceTests : ForkConformanceTests<FilesStoreFactory>;
