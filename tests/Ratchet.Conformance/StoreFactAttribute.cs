using Xunit;
using Xunit.Sdk;

namespace Ratchet.Conformance;

/// <summary>
/// A fact that needs a store. It runs like <see cref="FactAttribute"/>, except that a test ending in
/// <see cref="StoreSkippedException"/> (thrown by a <see cref="StoreFactory"/> whose server is not configured, outside
/// CI) is reported as skipped with the factory's reason instead of failed. Any other outcome is reported as is.
/// </summary>
[XunitTestCaseDiscoverer("Ratchet.Conformance.Discovery.StoreFactDiscoverer", "Ratchet.Conformance")]
[AttributeUsage(AttributeTargets.Method, AllowMultiple = false)]
public sealed class StoreFactAttribute : FactAttribute
{
}
