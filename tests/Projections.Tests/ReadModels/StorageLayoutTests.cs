using Npgsql;
using Projections.ReadModels;
using Projections.Tests.Infrastructure;
using Weasel.Core;

namespace Projections.Tests.ReadModels;

/// <summary>Projection documents, rewritten batch after batch, and the event store's streams, whose versions every append
/// bumps, leave room on their pages so updates stay on the page (HOT).</summary>
public sealed class StorageLayoutTests(AppFixture app) : AppTest(app)
{
    [Theory]
    [InlineData("mt_doc_orderstate")]
    [InlineData("mt_doc_userstate")]
    [InlineData("mt_doc_analyticsbucket")]
    public async Task Projection_document_tables_have_fillfactor_80(string table)
    {
        await using var connection = App.Store.Storage.Database.CreateConnection();
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(
            $"select reloptions from pg_class where oid = to_regclass('{MartenTables.Schema}.{table}')", connection);
        var options = await command.ExecuteScalarAsync() as string[];
        Assert.Contains("fillfactor=80", options ?? []);
    }

    [Fact]
    public async Task The_streams_table_has_its_fillfactor_and_a_schema_apply_restores_it()
    {
        Assert.Contains($"fillfactor={StreamsFillFactor.Percent}", await StreamsOptionsAsync());
        var database = App.Store.Storage.Database;
        Assert.DoesNotContain((await database.CreateMigrationAsync()).Deltas, d => d.SchemaObject is StreamsFillFactor && d.Difference != SchemaPatchDifference.None);

        // A database whose streams table lacks it (created before it, or changed by hand) gets it back on the next apply.
        await ExecuteAsync($"alter table {MartenTables.Schema}.mt_streams reset (fillfactor)");
        try
        {
            Assert.DoesNotContain($"fillfactor={StreamsFillFactor.Percent}", await StreamsOptionsAsync());
            Assert.Contains((await database.CreateMigrationAsync()).Deltas, d => d.SchemaObject is StreamsFillFactor && d.Difference != SchemaPatchDifference.None);
            await App.Store.Storage.ApplyAllConfiguredChangesToDatabaseAsync();
            Assert.Contains($"fillfactor={StreamsFillFactor.Percent}", await StreamsOptionsAsync());
        }
        finally
        {
            await ExecuteAsync($"alter table {MartenTables.Schema}.mt_streams set (fillfactor = {StreamsFillFactor.Percent})");
        }
    }

    private async Task<string[]> StreamsOptionsAsync()
    {
        await using var connection = App.Store.Storage.Database.CreateConnection();
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(
            $"select reloptions from pg_class where oid = to_regclass('{MartenTables.Schema}.mt_streams')", connection);
        return await command.ExecuteScalarAsync() as string[] ?? [];
    }

    private async Task ExecuteAsync(string sql)
    {
        await using var connection = App.Store.Storage.Database.CreateConnection();
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
    }
}

