using System.Text.Json;
using Npgsql;
using Projections.ReadModels;
using Projections.Tests.Infrastructure;

namespace Projections.Tests.ReadModels;

/// <summary>
/// A projection batch, live or in a rebuild, may touch more documents than the database can write within one command's
/// timeout (Npgsql's <c>Command Timeout</c>, 30 s by default; seen at 10M events while publishers ran at full speed). Its
/// loads and writes go in commands of at most <c>Projections:RowsPerCommand</c> documents, each with the timeout to
/// itself, so such a batch commits instead of failing and being retried whole, and failing again, for ever.
/// </summary>
[Collection(AppCollection.Name)]
public sealed class CommandTimeoutTests
{
    private const int Users = 3000;

    [Fact]
    public async Task A_batch_whose_documents_take_longer_to_write_than_the_command_timeout_commits_live_and_in_a_rebuild()
    {
        // The events first, with no daemon running, so that the daemon's first batch holds all of them.
        var (publisher, database) = await AppFixture.BuildWithoutDaemonAsync("command_timeout");
        long last;
        await using (publisher)
        {
            last = (await AppFixture.On(publisher).PublishAllAsync(
                [.. Enumerable.Range(0, Users).Select(i => Envelopes.Of("user.registered", new() { ["userId"] = $"u-{i}", ["role"] = "customer" }))],
                batchSize: 500)).LastSequence;
        }

        // Break the thing on purpose: every user state written takes a millisecond, so the batch's 3,000 take 3 s or more,
        // against a command timeout of 2 s; 250 of them take a quarter of a second.
        await using (var connection = new NpgsqlConnection(database))
        {
            await connection.OpenAsync();
            await using var command = new NpgsqlCommand($"""
                create function {MartenTables.Schema}.test_slow_row() returns trigger language plpgsql as
                  $$ begin perform pg_sleep(0.001); return new; end $$;
                create trigger test_slow_row before insert or update on {MartenTables.Schema}.mt_doc_userstate
                  for each row execute function {MartenTables.Schema}.test_slow_row();
                """, connection);
            await command.ExecuteNonQueryAsync();
        }

        await using var host = AppFixture.Build(b => b
            .UseSetting("ConnectionStrings:Postgres", database + ";Command Timeout=2")
            .UseSetting("Projections:BatchSize", "20000")
            .UseSetting("Projections:RowsPerCommand", "250")
            .UseSetting("Projections:MinSequenceTimeout", "00:01:00"));
        var app = AppFixture.On(host);

        var live = await app.GetJsonAsync($"/metrics/staff-dashboard?min_sequence={last}");
        Assert.Equal(Users, live.GetProperty("total_customers").GetInt32());

        // A rebuild writes the documents it kept in memory at its end: the same 3,000 in one flush.
        var rebuild = await app.RebuildAsync("UserMetrics", TimeSpan.FromMinutes(2));
        Assert.Equal("completed", rebuild.GetProperty("status").GetString());
        var rebuilt = await app.GetJsonAsync($"/metrics/staff-dashboard?min_sequence={last}");
        Assert.Equal(Users, rebuilt.GetProperty("total_customers").GetInt32());

        // No batch failed on the way: the projection never had to be retried.
        var status = (await app.GetJsonAsync("/api/admin/projections")).GetProperty("projections").EnumerateArray()
            .Single(p => p.GetProperty("name").GetString() == "UserMetrics");
        Assert.Equal("running", status.GetProperty("status").GetString());
        Assert.Equal(JsonValueKind.Null, status.GetProperty("lastError").ValueKind);
    }
}
