using System.Text.RegularExpressions;
using Npgsql;
using NpgsqlTypes;
using Projections.Analytics;
using Projections.Inventory;
using Projections.ReadModels;
using Projections.Tests.Infrastructure;
using Projections.Users;

namespace Projections.Tests.ReadModels;

/// <summary>
/// What <see cref="MartenTables"/> relies on in the schema Marten creates: every statement runs against it, and the
/// columns it writes are there, with the types it writes, and are all a row needs. An upgrade of Marten that renames,
/// retypes or adds a required column fails here, not in production.
/// </summary>
public sealed partial class MartenTablesSchemaTests(AppFixture app) : AppTest(app)
{
    public static TheoryData<string> Statements => new()
    {
        nameof(MartenTables.LastSequence), nameof(MartenTables.AppendEvents), nameof(MartenTables.HistoryChunk),
        nameof(MartenTables.EventsBySequence), nameof(MartenTables.OwnEventsThrough), nameof(MartenTables.FirstAppendAfter), nameof(MartenTables.MartenDeadLetters),
        nameof(MartenTables.UpsertDocuments), nameof(MartenTables.InsertDocuments), nameof(MartenTables.BaselineUsers), nameof(MartenTables.BaselineProducts),
        nameof(MartenTables.BaselineAnalytics),
    };

    [Theory]
    [MemberData(nameof(Statements))]
    public async Task Every_statement_runs_against_the_schema_marten_creates(string statement)
    {
        var (sql, parameters) = statement switch
        {
            nameof(MartenTables.LastSequence) => (MartenTables.LastSequence, Array.Empty<object>()),
            nameof(MartenTables.AppendEvents) => (MartenTables.AppendEvents, ["*DEFAULT*", Array.Empty<Guid>(), Array.Empty<string>(), Jsonb([]),
                Array.Empty<string>(), Array.Empty<string>()]),
            nameof(MartenTables.HistoryChunk) => (MartenTables.HistoryChunk, [0L, 10L, new[] { "order.placed" }, 10]),
            nameof(MartenTables.EventsBySequence) => (MartenTables.EventsBySequence, [new[] { 1L }]),
            nameof(MartenTables.OwnEventsThrough) => (MartenTables.OwnEventsThrough, [new[] { "order.placed" }, 10L]),
            nameof(MartenTables.FirstAppendAfter) => (MartenTables.FirstAppendAfter, [0L]),
            nameof(MartenTables.MartenDeadLetters) => (MartenTables.MartenDeadLetters, []),
            // Marten's positional ? placeholders, numbered as Npgsql runs them here.
            nameof(MartenTables.UpsertDocuments) => (Numbered(MartenTables.UpsertDocuments(MartenTables.DocumentTable(typeof(UserState)))),
                ["blue", typeof(UserState).FullName!, new[] { "u-schema" }, Jsonb(["{\"id\":\"u-schema\"}"])]),
            nameof(MartenTables.InsertDocuments) => (Numbered(MartenTables.InsertDocuments(MartenTables.DocumentTable(typeof(UserState)), utf8: true)),
                ["blue", typeof(UserState).FullName!, new[] { "u-schema" }, new[] { "{\"id\":\"u-schema\"}"u8.ToArray() }]),
            nameof(MartenTables.BaselineUsers) => (MartenTables.BaselineUsers(typeof(UserState), "blue"), []),
            nameof(MartenTables.BaselineProducts) => (MartenTables.BaselineProducts(typeof(ProductState), "blue", activeOnly: true, 5), []),
            _ => (MartenTables.BaselineAnalytics(typeof(OrderState), typeof(CartState), "blue"), new object[] { Named("from", DateTime.UnixEpoch), Named("to", DateTime.UtcNow) }),
        };

        await using var connection = new NpgsqlConnection(AppFixture.ConnectionString);
        await connection.OpenAsync();
        await using var transaction = await connection.BeginTransactionAsync();
        await using var command = new NpgsqlCommand(sql, connection, transaction);
        foreach (var parameter in parameters)
        {
            command.Parameters.Add(parameter as NpgsqlParameter ?? new NpgsqlParameter { Value = parameter });
        }

        await using (var reader = await command.ExecuteReaderAsync())
        {
            while (await reader.ReadAsync())
            {
            }
        }

        await transaction.RollbackAsync();
    }

    [Theory]
    [InlineData("mt_events", "seq_id bigint, id uuid, stream_id character varying, version bigint, data jsonb, type character varying, " +
                             "tenant_id character varying, timestamp timestamp with time zone, mt_dotnet_type character varying, is_archived boolean")]
    [InlineData("mt_streams", "id character varying, type character varying, version bigint, timestamp timestamp with time zone, tenant_id character varying")]
    [InlineData("mt_doc_userstate", "tenant_id character varying, id character varying, data jsonb, mt_dotnet_type character varying, " +
                                    "mt_last_modified timestamp with time zone, mt_version uuid")]
    public async Task The_columns_written_are_there_and_nothing_else_is_required(string table, string written)
    {
        var columns = written.Split(", ").Select(c => c.Split(' ', 2)).ToDictionary(c => c[0], c => c[1]);
        await using var connection = new NpgsqlConnection(AppFixture.ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(
            "select column_name, data_type, is_nullable = 'NO' and column_default is null from information_schema.columns " +
            "where table_schema = $1 and table_name = $2", connection)
        {
            Parameters = { new() { Value = MartenTables.Schema }, new() { Value = table } },
        };
        var actual = new Dictionary<string, (string Type, bool Required)>();
        await using (var reader = await command.ExecuteReaderAsync())
        {
            while (await reader.ReadAsync())
            {
                actual[reader.GetString(0)] = (reader.GetString(1), reader.GetBoolean(2));
            }
        }

        foreach (var (column, type) in columns)
        {
            Assert.True(actual.TryGetValue(column, out var found), $"{table}.{column} is gone");
            Assert.Equal(type, found.Type);
        }

        var required = actual.Where(c => c.Value.Required).Select(c => c.Key).Except(columns.Keys).ToList();
        Assert.True(required.Count == 0, $"{table} requires {string.Join(", ", required)}, which MartenTables does not write");
    }

    private static NpgsqlParameter Jsonb(string[] values) => new() { Value = values, NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Jsonb };

    private static NpgsqlParameter Named(string name, DateTime value) => new(name, value);

    private static string Numbered(string sql)
    {
        var n = 0;
        return Placeholder().Replace(sql, _ => $"${++n}");
    }

    [GeneratedRegex(@"\?")]
    private static partial Regex Placeholder();
}
