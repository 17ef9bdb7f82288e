using System.Data.Common;
using Marten;
using Weasel.Core;
using Weasel.Core.Migrations;
using Weasel.Postgresql;
using DbCommandBuilder = Weasel.Core.DbCommandBuilder;

namespace Projections.ReadModels;

/// <summary>
/// Leaves room on <c>mt_streams</c>' pages, part of the schema Marten applies (on startup and with <c>ops/schema-apply</c>).
/// Every batch ingest appends bumps the version of each stream it touches (<see cref="MartenTables.AppendEvents"/>),
/// hundreds of stream rows per batch. Packed full, as Marten creates the table, almost none of those updates found room
/// on their page: each wrote its new row version to another page and a new entry into the primary key (measured at
/// <c>large</c>: 12% of them stayed on the page). With room, the new version stays on the page (a HOT update, no index
/// entry), which halved the WAL of the stream upsert and took about a sixth of its time in a measured batch.
/// <para>
/// Marten offers no storage parameters for its event tables; Weasel compares only the parameters an object declares,
/// so Marten's own migrations leave this one alone. A database created before this setting gets it on the next schema
/// apply; PostgreSQL then uses it for pages filled from then on (existing pages fill as rows move).
/// </para>
/// </summary>
public sealed class StreamsFillFactor : ISchemaObject
{
    /// <summary>The fill factor <c>mt_streams</c> gets.</summary>
    public const int Percent = 70;

    private const string Table = "mt_streams";

    public DbObjectName Identifier { get; } = new PostgresqlObjectName(MartenTables.Schema, $"{Table}_fillfactor", SchemaUtils.IdentifierUsage.General);

    public void WriteCreateStatement(Migrator migrator, TextWriter writer) =>
        writer.WriteLine($"alter table {MartenTables.Schema}.{Table} set (fillfactor = {Percent});");

    // Written also where the event store's tables go first (a teardown): then there is nothing left to reset.
    public void WriteDropStatement(Migrator rules, TextWriter writer) =>
        writer.WriteLine($"alter table if exists {MartenTables.Schema}.{Table} reset (fillfactor);");

    public void ConfigureQueryCommand(DbCommandBuilder builder)
    {
        builder.Append("select c.reloptions from pg_class c join pg_namespace n on n.oid = c.relnamespace where n.nspname = ");
        builder.AppendParameter(MartenTables.Schema);
        builder.Append(" and c.relname = ");
        builder.AppendParameter(Table);
        builder.Append(";");
    }

    public async Task<ISchemaObjectDelta> CreateDeltaAsync(DbDataReader reader, CancellationToken ct = default)
    {
        // No row: the table is created in the same migration, before this (the event store is applied first).
        var set = await reader.ReadAsync(ct) && !await reader.IsDBNullAsync(0, ct)
            && reader.GetFieldValue<string[]>(0).Contains($"fillfactor={Percent}");
        return new SchemaObjectDelta(this, set ? SchemaPatchDifference.None : SchemaPatchDifference.Create);
    }

    public IEnumerable<DbObjectName> AllNames()
    {
        yield return Identifier;
    }

    /// <summary>The feature Marten applies after its own (custom features come after the event store's tables).</summary>
    public sealed class Feature(StoreOptions options) : FeatureSchemaBase("EventStoreStorage", options.Advanced.Migrator)
    {
        protected override IEnumerable<ISchemaObject> schemaObjects()
        {
            yield return new StreamsFillFactor();
        }
    }
}
