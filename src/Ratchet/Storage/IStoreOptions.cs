using Microsoft.Extensions.Logging;

namespace Ratchet.Storage;

/// <summary>
/// What every backend's options share, so that the engine builders can hand a store the engine's clock and loggers
/// the same way for every backend (see <see cref="Engine.RatchetBuilderExtensions.UseStore{TBuilder, TOptions}"/>).
/// </summary>
public interface IStoreOptions
{
    /// <summary>The store's clock (lease expiry, key-value and archive times); <see cref="TimeProvider.System"/> unless set.</summary>
    TimeProvider TimeProvider { get; set; }

    /// <summary>Where the store logs; null for nowhere.</summary>
    ILoggerFactory? LoggerFactory { get; set; }
}
