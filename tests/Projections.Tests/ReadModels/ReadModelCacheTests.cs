using Projections.ReadModels;
using Projections.Tests.Infrastructure;

namespace Projections.Tests.ReadModels;

/// <summary>The in-memory response cache is never staler than the caller asked for, and never bypasses authorization.</summary>
public sealed class ReadModelCacheTests(AppFixture app) : AppTest(app)
{
    [Fact]
    public async Task A_read_with_min_sequence_never_gets_a_response_older_than_that_sequence()
    {
        for (var i = 1; i <= 25; i++)
        {
            var receipt = await App.PublishAsync([Envelopes.Of("user.registered", new() { ["userId"] = $"u-{i}", ["role"] = "customer" })]);
            var result = await App.Host.Scenario(s =>
            {
                s.Get.Url($"/metrics/staff-dashboard?min_sequence={receipt.LastSequence}");
                s.WithBearerToken(TestTokens.Admin);
            });
            Assert.True(long.Parse(result.Context.Response.Headers[ReadModelEndpoint.SequenceHeader]!) >= receipt.LastSequence);
            var json = await result.ReadAsJsonAsync<Dictionary<string, decimal>>();
            Assert.Equal(i, json!["total_customers"]);
        }
    }

    [Fact]
    public async Task A_cached_response_is_not_served_to_a_caller_without_the_permission()
    {
        var receipt = await App.PublishAsync([Envelopes.Of("user.registered", new() { ["userId"] = "u-1", ["role"] = "customer" })]);
        var allowed = TestTokens.For("staff", "view_customers");
        var first = await App.GetJsonAsync($"/metrics/staff-dashboard?min_sequence={receipt.LastSequence}", allowed);
        Assert.Equal(1, first.GetProperty("total_customers").GetInt32());
        var etag = (await App.Host.Scenario(s =>
        {
            s.Get.Url("/metrics/staff-dashboard");
            s.WithBearerToken(allowed);
        })).Context.Response.Headers.ETag.ToString();

        // Same route, now cached: a caller whose permissions differ gets 403, with or without the validator.
        foreach (var token in new[] { TestTokens.For("staff", "manage_inventory"), TestTokens.For("customer"), TestTokens.Service })
        {
            await App.Host.Scenario(s =>
            {
                s.Get.Url("/metrics/staff-dashboard");
                s.WithBearerToken(token);
                s.StatusCodeShouldBe(403);
            });
            await App.Host.Scenario(s =>
            {
                s.Get.Url("/metrics/staff-dashboard");
                s.WithBearerToken(token);
                s.WithRequestHeader("If-None-Match", etag);
                s.StatusCodeShouldBe(403);
            });
        }

        // And the admin-only view cached by an admin stays closed to staff.
        await App.GetJsonAsync("/metrics/admin-dashboard");
        await App.Host.Scenario(s =>
        {
            s.Get.Url("/metrics/admin-dashboard");
            s.WithBearerToken(allowed);
            s.StatusCodeShouldBe(403);
        });
    }
}
