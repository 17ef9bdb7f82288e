using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Alba;
using Marten;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;
using Projections.Tests.Infrastructure;

namespace Projections.Tests.Auth;

/// <summary>The access rules of shared/contract/auth.md: who gets 401, who gets 403, and who gets through, on every protected route.</summary>
public sealed class AuthMatrixTests(AppFixture app) : AppTest(app)
{
    private const string AdminDashboard = "/metrics/admin-dashboard";
    private const string StaffDashboard = "/metrics/staff-dashboard";
    private const string Inventory = "/metrics/inventory";
    private const string Ingest = "/api/events";

    private static readonly string[] MetricsRoutes = [AdminDashboard, StaffDashboard, Inventory];

    public static TheoryData<string> ProtectedRoutes => new() { AdminDashboard, StaffDashboard, Inventory, Ingest };

    public static TheoryData<string> Metrics => new() { AdminDashboard, StaffDashboard, Inventory };

    // ---- 401: no token or a token that does not validate ----

    [Theory]
    [MemberData(nameof(ProtectedRoutes))]
    public Task No_token_is_401(string route) => AssertUnauthorized(route, null, "bearer token is required");

    [Theory]
    [MemberData(nameof(ProtectedRoutes))]
    public Task Garbage_token_is_401(string route) => AssertUnauthorized(route, "this-is-not-a-jwt");

    [Theory]
    [MemberData(nameof(ProtectedRoutes))]
    public Task Token_signed_with_another_key_is_401(string route) =>
        AssertUnauthorized(route, TestTokens.Create(Claims("admin"), signingKey: "another-signing-key-that-is-long-enough-0123456789"), "signature");

    [Theory]
    [MemberData(nameof(ProtectedRoutes))]
    public Task Expired_token_is_401(string route) =>
        AssertUnauthorized(route, TestTokens.Create(Claims("admin"), expires: DateTime.UtcNow.AddMinutes(-2),
            notBefore: DateTime.UtcNow.AddMinutes(-30)), "expired");

    [Theory]
    [MemberData(nameof(ProtectedRoutes))]
    public Task Unsigned_alg_none_token_is_401(string route) => AssertUnauthorized(route, TestTokens.Unsigned("admin"));

    [Theory]
    [MemberData(nameof(ProtectedRoutes))]
    public Task Wrong_issuer_is_401(string route) => AssertUnauthorized(route, TestTokens.Create(Claims("admin"), issuer: "someone-else"), "issuer");

    [Theory]
    [MemberData(nameof(ProtectedRoutes))]
    public Task Wrong_audience_is_401(string route) => AssertUnauthorized(route, TestTokens.Create(Claims("admin"), audience: "another-api"), "audience");

    [Fact]
    public async Task Token_expired_within_the_30_second_clock_skew_is_still_accepted()
    {
        var token = TestTokens.Create(Claims("admin"), expires: DateTime.UtcNow.AddSeconds(-10), notBefore: DateTime.UtcNow.AddMinutes(-30));
        foreach (var route in MetricsRoutes)
        {
            await Expect(App.Host, route, token, 200);
        }

        await Expect(App.Host, Ingest, token, 202);
    }

    [Fact]
    public async Task A_token_served_from_the_validated_tokens_is_refused_the_moment_it_expires()
    {
        // Expired 29 s ago: still inside the 30 s clock skew, so accepted (and remembered by this node).
        var expires = DateTime.UtcNow.AddSeconds(-29);
        var token = TestTokens.Create(Claims("admin"), expires: expires, notBefore: DateTime.UtcNow.AddMinutes(-30));
        await Expect(App.Host, "/metrics/admin-dashboard", token, 200);
        await Expect(App.Host, "/metrics/admin-dashboard", token, 200);

        // A token whose signature differs is a different token, whatever the node remembers.
        await AssertUnauthorized("/metrics/admin-dashboard", token[..^2] + (token[^2] == 'A' ? "B" : "A") + token[^1], "signature");

        // Past the skew, the remembered token is refused like any other expired one.
        var refusedFrom = expires + AuthSkew + TimeSpan.FromMilliseconds(50);
        if (refusedFrom > DateTime.UtcNow)
        {
            await Task.Delay(refusedFrom - DateTime.UtcNow);
        }

        await AssertUnauthorized("/metrics/admin-dashboard", token, "expired");
    }

    private static readonly TimeSpan AuthSkew = Projections.Auth.AuthSetup.ClockSkew;

    // ---- 403: a valid token whose role or permissions do not allow the route ----

    [Theory]
    [MemberData(nameof(Metrics))]
    public Task Customer_is_403_on_metrics(string route) => ExpectForbidden(App.Host, route, TestTokens.For("customer"));

    [Theory]
    [MemberData(nameof(Metrics))]
    public Task Staff_without_permissions_is_403_on_metrics(string route) => ExpectForbidden(App.Host, route, TestTokens.For("staff"));

    [Theory]
    [MemberData(nameof(Metrics))]
    public Task Service_is_403_on_metrics(string route) => ExpectForbidden(App.Host, route, TestTokens.Service);

    [Fact]
    public async Task Staff_with_view_customers_opens_only_the_staff_dashboard()
    {
        var token = TestTokens.For("staff", "view_customers");
        await Expect(App.Host, StaffDashboard, token, 200);
        await ExpectForbidden(App.Host, Inventory, token);
        await ExpectForbidden(App.Host, AdminDashboard, token);
    }

    [Fact]
    public async Task Staff_with_manage_inventory_opens_only_the_inventory()
    {
        var token = TestTokens.For("staff", "manage_inventory");
        await Expect(App.Host, Inventory, token, 200);
        await ExpectForbidden(App.Host, StaffDashboard, token);
        await ExpectForbidden(App.Host, AdminDashboard, token);
    }

    [Fact]
    public async Task Admin_opens_every_metrics_route()
    {
        foreach (var route in MetricsRoutes)
        {
            await Expect(App.Host, route, TestTokens.Admin, 200);
        }
    }

    [Fact]
    public async Task Permissions_as_a_space_separated_string_work()
    {
        var token = TestTokens.Create(new Dictionary<string, object> { ["role"] = "staff", ["permissions"] = "view_customers manage_inventory" });
        await Expect(App.Host, StaffDashboard, token, 200);
        await Expect(App.Host, Inventory, token, 200);
        await ExpectForbidden(App.Host, AdminDashboard, token);
    }

    // ---- POST /api/events: service and admin only ----

    [Fact]
    public async Task Service_and_admin_may_publish_events()
    {
        await Expect(App.Host, Ingest, TestTokens.Service, 202);
        await Expect(App.Host, Ingest, TestTokens.Admin, 202);
    }

    [Fact]
    public async Task Customer_and_staff_may_not_publish_events()
    {
        await ExpectForbidden(App.Host, Ingest, TestTokens.For("customer"));
        await ExpectForbidden(App.Host, Ingest, TestTokens.For("staff"));
        await ExpectForbidden(App.Host, Ingest, TestTokens.For("staff", "view_customers", "manage_inventory"));

        await using var session = App.Store.QuerySession();
        Assert.Empty(await session.Events.QueryAllRawEvents().ToListAsync());
    }

    // ---- Supabase-shaped tokens: the role and permissions live in the app_metadata JSON claim ----

    [Fact]
    public async Task Supabase_token_reads_role_and_permissions_from_app_metadata()
    {
        await using var host = AppFixture.Build(b =>
        {
            b.UseSetting("Auth:RoleClaim", "app_metadata.role");
            b.UseSetting("Auth:PermissionsClaim", "app_metadata.permissions");
            b.UseSetting("Projections:RunDaemon", "false");
        });

        var staff = SupabaseToken(new Dictionary<string, object> { ["role"] = "staff", ["permissions"] = new[] { "view_customers" } });
        var appMetadata = PayloadOf(staff).GetProperty("app_metadata");
        Assert.Equal(JsonValueKind.Object, appMetadata.ValueKind);
        Assert.Equal("staff", appMetadata.GetProperty("role").GetString());
        Assert.Equal(JsonValueKind.Array, appMetadata.GetProperty("permissions").ValueKind);
        Assert.Equal("authenticated", PayloadOf(staff).GetProperty("role").GetString());
        // What the service's token handler makes of it: one claim whose value is a JSON object.
        Assert.Equal(JsonClaimValueTypes.Json, new JsonWebToken(staff).Claims.Single(c => c.Type == "app_metadata").ValueType);

        await Expect(host, StaffDashboard, staff, 200);
        await ExpectForbidden(host, Inventory, staff);
        await ExpectForbidden(host, AdminDashboard, staff);

        var admin = SupabaseToken(new Dictionary<string, object> { ["role"] = "admin" });
        await Expect(host, AdminDashboard, admin, 200);

        // The top-level role is not the application role on this host.
        await ExpectForbidden(host, AdminDashboard, TestTokens.Admin);
    }

    // ---- Startup refuses an unsafe configuration ----

    [Fact]
    public void Outside_development_the_service_refuses_to_start_without_a_key()
    {
        var failure = Record.Exception(() =>
        {
            using var host = AppFixture.Build(b =>
            {
                b.UseSetting("Auth:SigningKey", "");
                b.UseSetting("Auth:Authority", "");
                b.UseSetting("Projections:RunDaemon", "false");
            }, environment: "Production");
        });

        AssertRefusal(failure, "No token validation is configured");
    }

    [Fact]
    public void A_signing_key_shorter_than_32_bytes_refuses_to_start()
    {
        var failure = Record.Exception(() =>
        {
            using var host = AppFixture.Build(b =>
            {
                b.UseSetting("Auth:SigningKey", new string('k', 31));
                b.UseSetting("Projections:RunDaemon", "false");
            });
        });

        AssertRefusal(failure, "32 bytes");
    }

    // ---- helpers ----

    private static Dictionary<string, object> Claims(string role) => new() { ["role"] = role };

    private static string SupabaseToken(Dictionary<string, object> appMetadata) =>
        TestTokens.Create(new Dictionary<string, object> { ["role"] = "authenticated", ["app_metadata"] = appMetadata });

    private static JsonElement PayloadOf(string token)
    {
        var payload = Encoding.UTF8.GetString(Base64UrlEncoder.DecodeBytes(token.Split('.')[1]));
        using var document = JsonDocument.Parse(payload);
        return document.RootElement.Clone();
    }

    private static void AssertRefusal(Exception? failure, string messagePart)
    {
        Assert.NotNull(failure);
        var chain = new List<Exception>();
        for (var e = failure; e is not null; e = e.InnerException)
        {
            chain.Add(e);
            if (e is AggregateException aggregate)
            {
                chain.AddRange(aggregate.InnerExceptions);
            }
        }

        Assert.Contains(chain, e => e is InvalidOperationException && e.Message.Contains(messagePart, StringComparison.Ordinal));
    }

    private static string ValidBatch() =>
        new JsonArray(Envelopes.Of("user.registered", new() { ["userId"] = "auth-user", ["role"] = "customer" })).ToJsonString();

    private static async Task<IScenarioResult> Send(IAlbaHost host, string route, string? token, int status)
    {
        return await host.Scenario(s =>
        {
            if (route == Ingest)
            {
                s.Post.Text(ValidBatch()).ContentType("application/json").ToUrl(route);
            }
            else
            {
                s.Get.Url(route);
            }

            if (token is not null)
            {
                s.WithBearerToken(token);
            }

            s.StatusCodeShouldBe(status);
        });
    }

    private static Task Expect(IAlbaHost host, string route, string token, int status) => Send(host, route, token, status);

    private static async Task ExpectForbidden(IAlbaHost host, string route, string token)
    {
        var result = await Send(host, route, token, 403);
        Assert.Equal("application/problem+json", result.Context.Response.ContentType);
        var problem = await result.ReadAsJsonAsync<ProblemBody>();
        Assert.Equal(403, problem!.Status);
    }

    private async Task AssertUnauthorized(string route, string? token, string? detailContains = null)
    {
        var result = await Send(App.Host, route, token, 401);
        var response = result.Context.Response;
        Assert.StartsWith("Bearer", response.Headers.WWWAuthenticate.ToString(), StringComparison.Ordinal);
        Assert.Equal("application/problem+json", response.ContentType);
        var problem = await result.ReadAsJsonAsync<ProblemBody>();
        Assert.Equal(401, problem!.Status);
        if (detailContains is not null)
        {
            Assert.Contains(detailContains, problem.Detail, StringComparison.Ordinal);
        }
    }
}
