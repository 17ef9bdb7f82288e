using System.Text.Json;
using Marten;
using Marten.Events;
using Projections.Tests.Infrastructure;

namespace Projections.Tests.Operations;

/// <summary>What an operator sees: projection status and lag, and the health probes.</summary>
public sealed class OperationsTests(AppFixture app) : AppTest(app)
{
    [Fact]
    public async Task Status_lists_every_projection_caught_up_with_the_high_water_mark()
    {
        var receipt = await App.PublishAsync([
            Envelopes.Of("user.registered", new() { ["userId"] = "u-1", ["role"] = "customer" }),
            Envelopes.Of("product.created", new() { ["productId"] = "p-1", ["orgId"] = "o-1", ["name"] = "Vase" }),
            Envelopes.Of("cart.created", new() { ["cartId"] = "c-1" }),
        ]);
        await App.Host.WaitForNonStaleProjectionDataAsync(TimeSpan.FromSeconds(30));

        var json = await App.GetJsonAsync("/api/admin/projections");
        Assert.True(json.GetProperty("highWaterMark").GetInt64() >= receipt.LastSequence);
        Assert.Equal(0, json.GetProperty("deadLetterEvents").GetInt64());
        var projections = json.GetProperty("projections").EnumerateArray().ToList();
        Assert.Equal(["GalleryAnalytics", "InventoryMetrics", "ReferralAnalytics", "UserMetrics"], projections.Select(p => p.GetProperty("name").GetString()).Order());
        foreach (var p in projections)
        {
            Assert.Equal("running", p.GetProperty("status").GetString());
            Assert.Equal(1, p.GetProperty("version").GetInt32());
            Assert.Equal(json.GetProperty("highWaterMark").GetInt64(), p.GetProperty("sequence").GetInt64());
            Assert.Equal(0, p.GetProperty("lagEvents").GetInt64());
            Assert.Equal(0d, p.GetProperty("lagSeconds").GetDouble());
            Assert.Equal(JsonValueKind.Null, p.GetProperty("lastError").ValueKind);
        }
    }

    [Theory]
    [InlineData("staff")]
    [InlineData("service")]
    public async Task Status_is_for_admins_only(string role) =>
        await App.Host.Scenario(s =>
        {
            s.Get.Url("/api/admin/projections");
            s.WithBearerToken(TestTokens.For(role, "view_customers", "manage_inventory"));
            s.StatusCodeShouldBe(403);
        });

    [Fact]
    public async Task Ready_when_the_database_answers_and_projections_keep_up()
    {
        await App.PublishAsync([Envelopes.Of("user.registered", new() { ["userId"] = "u-1", ["role"] = "customer" })]);
        await App.Host.WaitForNonStaleProjectionDataAsync(TimeSpan.FromSeconds(30));
        var result = await App.Host.Scenario(s =>
        {
            s.Get.Url("/health/ready");
            s.StatusCodeShouldBe(200);
        });
        Assert.StartsWith("Healthy", await result.ReadAsTextAsync());
    }

    [Fact]
    public async Task Not_ready_while_events_wait_and_the_daemon_is_stopped()
    {
        await App.Host.PauseAllDaemonsAsync();
        try
        {
            await App.PublishAsync([Envelopes.Of("user.registered", new() { ["userId"] = "u-1", ["role"] = "customer" })]);
            await using var probe = AppFixture.Build(b =>
            {
                b.UseSetting("Projections:RunDaemon", "false");
                b.UseSetting("Health:StalledAfter", "00:00:00");
            });
            var result = await probe.Scenario(s =>
            {
                s.Get.Url("/health/ready");
                s.StatusCodeShouldBe(503);
            });
            Assert.Contains("high-water mark", await result.ReadAsTextAsync());
        }
        finally
        {
            await App.Host.ResumeAllDaemonsAsync();
        }
    }

    [Fact]
    public async Task Without_a_database_live_answers_and_ready_does_not()
    {
        await using var host = AppFixture.Build(b =>
        {
            b.UseSetting("ConnectionStrings:Postgres", "Host=127.0.0.1;Port=1;Username=nobody;Database=none;Timeout=2");
            b.UseSetting("Projections:RunDaemon", "false");
            b.UseSetting("Projections:ApplySchemaOnStartup", "false");
        });
        await host.Scenario(s =>
        {
            s.Get.Url("/health/live");
            s.StatusCodeShouldBe(200);
        });
        var result = await host.Scenario(s =>
        {
            s.Get.Url("/health/ready");
            s.StatusCodeShouldBe(503);
        });
        Assert.Contains("database", await result.ReadAsTextAsync());
    }
}
