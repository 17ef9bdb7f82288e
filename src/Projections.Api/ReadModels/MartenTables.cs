using System.Reflection;
using Marten;
using Npgsql;

namespace Projections.ReadModels;

/// <summary>
/// Every SQL statement the service writes against Marten's own tables (<c>mt_events</c>, <c>mt_streams</c>, the
/// <c>mt_doc_*</c> document tables), in one place: where Marten's API costs too much (ingest's set-based append, bulk
/// document writes, reading history without event envelopes) or has no answer (the status' figures, the benchmark's
/// baseline). <c>MartenTablesSchemaTests</c> runs each statement against the schema Marten creates and checks the
/// columns they use, so an upgrade of Marten that changes them fails a test instead of production.
/// </summary>
public static class MartenTables
{
    /// <summary>The schema of the event store and the documents.</summary>
    public const string Schema = "projections";

    // ---- Events (Ingest/EventIngestor.cs) ----

    /// <summary>The last event's sequence (0 in an empty store).</summary>
    public const string LastSequence = $"select coalesce(max(seq_id), 0) from {Schema}.mt_events";

    /// <summary>
    /// A batch appended with one statement, as Marten's quick append writes it, each event at most once: the events ($2
    /// ids, distinct; $3 streams; $4 data; $5 type names; $6 .NET type names, for tenant $1) whose ids are not stored
    /// yet, in batch order, draw their sequence numbers; one upsert bumps the version of every stream they touch (rows
    /// locked in stream id order); one insert stores them, an event's version being its stream's new version minus the
    /// batch's events of that stream after it. Answers how many were appended and the last sequence (of this batch, or
    /// the store's when nothing was new), and wakes the daemon as Marten's appends do (delivered on commit) when
    /// something was. Its snapshot must see every append committed before (appends take turns, EventIngestor).
    /// </summary>
    public const string AppendEvents = $"""
        with fresh as materialized (
            select e.id, e.stream, e.data, e.type, e.dotnet, row_number() over (order by e.ord) as ord,
                count(*) over (partition by e.stream order by e.ord rows between 1 following and unbounded following) as later
            from unnest($2::uuid[], $3::varchar[], $4::jsonb[], $5::varchar[], $6::varchar[])
                with ordinality as e(id, stream, data, type, dotnet, ord)
            where not exists (select 1 from {Schema}.mt_events m where m.id = e.id)
        ), streams as (
            insert into {Schema}.mt_streams as s (id, type, version, timestamp, tenant_id)
            select f.stream, null, count(*), now(), $1 from fresh f group by f.stream order by f.stream
            on conflict (id) do update set version = s.version + excluded.version, timestamp = excluded.timestamp
            returning s.id, s.version
        ), seqs as materialized (
            select g.ord, nextval('{Schema}.mt_events_sequence') as seq_id
            from generate_series(1::bigint, (select count(*) from fresh)) as g(ord)
        ), appended as (
            insert into {Schema}.mt_events
                (seq_id, id, stream_id, version, data, type, tenant_id, timestamp, mt_dotnet_type, is_archived)
            select seqs.seq_id, f.id, f.stream, streams.version - f.later, f.data, f.type, $1, now(), f.dotnet, false
            from fresh f
            join seqs on seqs.ord = f.ord
            join streams on streams.id = f.stream
            returning seq_id
        )
        select (select count(*) from fresh), count(*),
            coalesce(max(seq_id), (select coalesce(max(seq_id), 0) from {Schema}.mt_events)),
            case when count(*) > 0 then pg_notify('{Marten.Events.Daemon.HighWater.PostgresqlListenWakeup.DefaultChannel}', '') end
        from appended
        """;

    // ---- Events read back (ReadModels/SlottedProjection.cs) ----

    /// <summary>At most $4 events of the types $3 after sequence $1 and before $2, in order: history for a rebuild. Columns:
    /// sequence, id, type, version, data.</summary>
    public const string HistoryChunk = $"""
        select seq_id, id, type, version, data from {Schema}.mt_events
        where seq_id > $1 and seq_id < $2 and type = any($3) and is_archived = false order by seq_id limit $4
        """;

    /// <summary>The events with the sequences $1, in order (set-aside events to replay); the columns of <see cref="HistoryChunk"/>.</summary>
    public const string EventsBySequence = $"select seq_id, id, type, version, data from {Schema}.mt_events where seq_id = any($1) order by seq_id";

    /// <summary>Whether any event of the types $1 (text[]) has a sequence up to $2: whether a projection of those types
    /// had events of its own by then (its progress moves past other events too).</summary>
    public const string OwnEventsThrough = $"select exists(select 1 from {Schema}.mt_events where type = any($1) and seq_id <= $2)";

    /// <inheritdoc cref="OwnEventsThrough"/>
    public static async Task<bool> OwnEventsThroughAsync(NpgsqlConnection connection, string[] typeNames, long through, CancellationToken cancellation)
    {
        if (through <= 0)
        {
            return false;
        }

        await using var command = new NpgsqlCommand(OwnEventsThrough, connection) { Parameters = { new() { Value = typeNames }, new() { Value = through } } };
        return await command.ExecuteScalarAsync(cancellation) is true;
    }

    /// <summary>The names a projection's event types are stored under.</summary>
    public static string[] TypeNames(IDocumentStore store, IReadModelBuilder builder) =>
        [.. builder.EventTypes.Select(t => store.Options.Events.AllKnownEventTypes().Single(e => e.EventType == t).EventTypeName)];

    // ---- Status (Operations/ProjectionStatus.cs) ----

    /// <summary>When the first event after sequence $1 was appended (none: null).</summary>
    public const string FirstAppendAfter = $"select timestamp from {Schema}.mt_events where seq_id > $1 order by seq_id limit 1";

    /// <summary>How many events Marten's own daemon skipped as dead letters (0 before its table exists).</summary>
    public const string MartenDeadLetters = $"""
        select case when to_regclass('{Schema}.mt_doc_deadletterevent') is null then 0
        else (select count(*) from {Schema}.mt_doc_deadletterevent) end
        """;

    // ---- Documents ----

    /// <summary>Marten's table for documents of a type, e.g. <c>projections.mt_doc_userstate</c> (its alias when it has one).</summary>
    public static string DocumentTable(Type type) =>
        $"{Schema}.mt_doc_{type.GetCustomAttribute<Marten.Schema.DocumentAliasAttribute>()?.Alias ?? type.Name.ToLowerInvariant()}";

    /// <summary>
    /// Many documents of one type upserted into one slot, as Marten's own upsert writes them (same columns, a fresh
    /// <c>mt_version</c>): slot ($1), .NET type name ($2), ids ($3) and JSON ($4). Written with Marten's positional
    /// <c>?</c> placeholders, for <c>QueueSqlCommand</c> (ReadModels/BulkDocuments.cs). With <paramref name="utf8"/>, the
    /// JSON comes as UTF-8 bytes (<c>bytea[]</c>).
    /// </summary>
    public static string UpsertDocuments(string table, bool utf8 = false) =>
        InsertDocuments(table, utf8) +
        " on conflict (tenant_id, id) do update set data = excluded.data, mt_version = excluded.mt_version, " +
        "mt_dotnet_type = excluded.mt_dotnet_type, mt_last_modified = excluded.mt_last_modified";

    /// <summary>
    /// <see cref="UpsertDocuments"/> for documents whose ids the slot is known not to hold (a rebuild's first write of
    /// them): a plain insert, which costs PostgreSQL about a quarter less than the upsert's speculative insertion, and
    /// fails on an id already there rather than overwrite it.
    /// </summary>
    public static string InsertDocuments(string table, bool utf8 = false) =>
        $"insert into {table} as d (tenant_id, id, data, mt_dotnet_type, mt_last_modified) " +
        (utf8
            ? "select ?, t.id, convert_from(t.data, 'UTF8')::jsonb, ?, transaction_timestamp() from unnest(?::varchar[], ?::bytea[]) as t(id, data)"
            : "select ?, t.id, t.data, ?, transaction_timestamp() from unnest(?::varchar[], ?::jsonb[]) as t(id, data)");

    // ---- The benchmark's baseline (Benchmark/BenchmarkEndpoints.cs): what a dashboard got by aggregating on request ----

    /// <summary>The documents of a type in one slot (a fixed name, never input).</summary>
    private static string Slot(Type type, string slot) => $"(select * from {DocumentTable(type)} where tenant_id = '{slot}') as docs";

    /// <summary>Users by role: role, total, active, inactive, email verified, phone verified.</summary>
    public static string BaselineUsers(Type userState, string slot) => $"""
        select data->>'role',
               count(*), count(*) filter (where (data->>'active')::boolean), count(*) filter (where not (data->>'active')::boolean),
               count(*) filter (where (data->>'emailVerified')::boolean), count(*) filter (where (data->>'phoneVerified')::boolean)
        from {Slot(userState, slot)}
        where (data->>'registered')::boolean and not (data->>'deleted')::boolean
        group by 1
        """;

    /// <summary>The inventory figures of the Metrics API, in its order, over the products (the active ones only, or all).</summary>
    public static string BaselineProducts(Type productState, string slot, bool activeOnly, int defaultThreshold) => $"""
        with p as (
          select (data->>'hasInventory')::boolean as inv, (data->>'price')::numeric as price,
                 (data->>'stock')::bigint as stock, (data->>'reserved')::bigint as reserved,
                 coalesce((data->>'lowStockThreshold')::int, {defaultThreshold}) as threshold
          from {Slot(productState, slot)}
          where (data->>'created')::boolean and not (data->>'deleted')::boolean {(activeOnly ? "and (data->>'active')::boolean" : "")})
        select count(*), count(*) filter (where inv), count(*) filter (where price is not null),
               coalesce(sum(stock) filter (where inv), 0), coalesce(sum(reserved) filter (where inv), 0),
               coalesce(sum(stock - reserved) filter (where inv), 0),
               count(*) filter (where inv and stock - reserved > 0),
               count(*) filter (where inv and stock - reserved > 0 and stock - reserved <= threshold),
               count(*) filter (where inv and stock - reserved <= 0),
               coalesce(sum(stock * price) filter (where inv), 0), coalesce(sum(reserved * price) filter (where inv), 0),
               coalesce(sum((stock - reserved) * price) filter (where inv), 0)
        from p
        """;

    /// <summary>Orders placed and carts created from @from to before @to: rows of (kind, key, count, revenue or active
    /// carts, items or checked-out carts) for statuses, days, artists and carts.</summary>
    public static string BaselineAnalytics(Type orderState, Type cartState, string slot) => $"""
        with o as (
          select id, data->>'status' as status, ((data->>'placedAt')::timestamptz at time zone 'UTC')::date as day, data->'items' as items
          from {Slot(orderState, slot)}
          where (data->>'placed')::boolean and (data->>'placedAt')::timestamptz >= @from and (data->>'placedAt')::timestamptz < @to),
        i as (
          select o.id, o.day, item->>'orgId' as org, (item->>'quantity')::int as qty,
                 (item->>'quantity')::int * (item->>'unitPrice')::numeric as revenue
          from o, jsonb_array_elements(o.items) item where o.status <> 'Cancelled')
        select 'status', status, count(*)::numeric, 0::numeric, 0::numeric from o group by status
        union all select 'day', day::text, count(distinct id)::numeric, sum(revenue), sum(qty) from i group by day
        union all select 'artist', org, count(distinct id)::numeric, sum(revenue), sum(qty) from i group by org
        union all select 'carts', ((data->>'createdAt')::timestamptz at time zone 'UTC')::date::text, count(*)::numeric,
               count(*) filter (where data->'lines' <> jsonb_build_object())::numeric,
               count(*) filter (where data->'lines' <> jsonb_build_object() and (data->>'checkedOut')::boolean)::numeric
          from {Slot(cartState, slot)}
          where (data->>'created')::boolean and (data->>'createdAt')::timestamptz >= @from and (data->>'createdAt')::timestamptz < @to
          group by 2
        """;
}
