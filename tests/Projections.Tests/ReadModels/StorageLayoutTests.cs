using Npgsql;
using Projections.ReadModels;
using Projections.Tests.Infrastructure;

namespace Projections.Tests.ReadModels;

/// <summary>Projection documents, rewritten batch after batch, leave room on their pages so updates stay on the page (HOT).</summary>
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
}

