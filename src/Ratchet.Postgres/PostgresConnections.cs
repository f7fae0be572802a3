using Npgsql;

namespace Ratchet.Postgres;

/// <summary>Builds the store's data sources from its options.</summary>
internal static class PostgresConnections
{
    /// <summary>
    /// A data source whose connections see only the store's schema. Statements are auto-prepared (the store issues a
    /// few dozen distinct texts, each many times); connections skip the reset on return to the pool because the store
    /// leaves no session state behind and the reset would cost a statement on every reuse.
    /// </summary>
    public static NpgsqlDataSource CreateDataSource(PostgresStoreOptions options, bool pooling, bool listener = false)
    {
        var builder = new NpgsqlConnectionStringBuilder(options.ConnectionString)
        {
            SearchPath = options.Schema,
            Pooling = pooling,
            Timeout = Seconds(options.ConnectTimeout),
            CommandTimeout = Seconds(options.CommandTimeout),
            NoResetOnClose = true,

            // The refusal functions report the stored version in the error's detail, which Npgsql hides by default.
            IncludeErrorDetail = true,

            // A refused commit names the statement that failed, which tells which condition did not hold.
            IncludeFailedBatchedCommand = true,
        };
        if (pooling)
        {
            builder.MaxPoolSize = options.MaxPoolSize;
        }

        if (builder.MaxAutoPrepare == 0)
        {
            builder.MaxAutoPrepare = 128;
            builder.AutoPrepareMinUsages = 2;
        }

        if (string.IsNullOrEmpty(builder.ApplicationName))
        {
            builder.ApplicationName = listener ? "ratchet-listener" : "ratchet";
        }

        if (listener && builder.KeepAlive == 0)
        {
            // An idle LISTEN connection sees no traffic; a keepalive notices a dead server or network so it reconnects.
            builder.KeepAlive = 30;
        }

        var sourceBuilder = new NpgsqlDataSourceBuilder(builder.ConnectionString);
        if (options.LoggerFactory is { } loggerFactory)
        {
            sourceBuilder.UseLoggerFactory(loggerFactory);
        }

        return sourceBuilder.Build();
    }

    private static int Seconds(TimeSpan time) => Math.Max(1, (int)Math.Ceiling(time.TotalSeconds));
}
