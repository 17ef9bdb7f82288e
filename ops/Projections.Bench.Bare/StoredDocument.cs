using JasperFx;
using Marten;
using Marten.AspNetCore;

namespace Projections.Bench.Bare;

/// <summary>
/// The first peer: one stored document streamed by primary key per request with Marten's <c>WriteById</c>, as the
/// Critter Stack samples serve a read model (the stored JSON copied to the response, never deserialized), without
/// authentication. The document is the service's own, read where the service stores it: a Marten tenant (the
/// projection's active blue/green slot) of its document table.
/// </summary>
public static class StoredDocument
{
    /// <summary>Stands for the service's document type: <c>WriteById</c> needs only its table and its string id.</summary>
    public sealed class Document
    {
        public string Id { get; set; } = "";
    }

    /// <param name="connectionString">The benchmark's database.</param>
    /// <param name="schema">Marten's schema there.</param>
    /// <param name="alias">The document type's alias: its table is <c>mt_doc_{alias}</c>.</param>
    /// <param name="tenant">The slot the document is read from.</param>
    /// <param name="id">The document's id.</param>
    public static RequestDelegate Handler(string connectionString, string schema, string alias, string tenant, string id)
    {
        var store = DocumentStore.For(opts =>
        {
            opts.Connection(connectionString);
            opts.DatabaseSchemaName = schema;
            // The tables are the service's: never created or changed from here.
            opts.AutoCreateSchemaObjects = AutoCreate.None;
            opts.Schema.For<Document>().DocumentAlias(alias).MultiTenanted();
        });
        return async context =>
        {
            await using var session = store.QuerySession(tenant);
            await session.Json.WriteById<Document>(id, context);
        };
    }
}
