using System.Text.Json;
using Microsoft.AspNetCore.Hosting;
using Projections.Auth;
using Projections.Tests.Infrastructure;

namespace Projections.Tests.Auth;

/// <summary>Outside Development the service refuses to start with token settings that would accept tokens nobody meant to
/// accept; Development keeps its built-in key.</summary>
public sealed class StartupConfigurationTests
{
    public static TheoryData<string, string?, string?, string?, string> Refused => new()
    {
        { "an authority without an audience", null, "https://login.example.com", null, "Auth:Audience" },
        { "a signing key and an authority", TestTokens.SigningKey, "https://login.example.com", TestTokens.Audience, "Both Auth:SigningKey and Auth:Authority" },
        { "the built-in Development key", AuthSettings.DevelopmentSigningKey, null, null, "built-in Development key" },
        { "no key and no authority", null, null, null, "No token validation is configured" },
        { "a key shorter than 32 bytes", "too-short-a-key", null, null, "at least 32 bytes" },
    };

    [Theory]
    [MemberData(nameof(Refused))]
    public void Production_refuses_to_start_with(string what, string? key, string? authority, string? audience, string message)
    {
        var error = Assert.ThrowsAny<Exception>(() => AppFixture.Build(b => Configure(b, key, authority, audience), "Production"));
        Assert.True(error.ToString().Contains(message, StringComparison.Ordinal), $"{what}: {error}");
    }

    [Fact]
    public async Task Production_starts_with_a_key_of_its_own()
    {
        await using var host = AppFixture.Build(b => Configure(b, "a-production-secret-of-more-than-32-bytes!!", null, TestTokens.Audience), "Production");
        var token = TestTokens.Create(new Dictionary<string, object> { ["role"] = "admin" }, signingKey: "a-production-secret-of-more-than-32-bytes!!");
        var result = await host.Scenario(s =>
        {
            s.Get.Url("/api/admin/projections");
            s.WithBearerToken(token);
            s.StatusCodeShouldBe(200);
        });
        Assert.Equal(JsonValueKind.Object, JsonDocument.Parse(await result.ReadAsTextAsync()).RootElement.ValueKind);
    }

    [Fact]
    public void The_development_key_constant_is_the_one_development_uses()
    {
        var settings = JsonDocument.Parse(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "appsettings.Development.json")));
        Assert.Equal(AuthSettings.DevelopmentSigningKey, settings.RootElement.GetProperty("Auth").GetProperty("SigningKey").GetString());
    }

    [Fact]
    public void Docker_compose_runs_as_production_with_secrets_from_the_environment_and_no_database_port()
    {
        var compose = File.ReadAllText(Path.Combine(RepositoryRoot.Path, "docker-compose.yml"));
        var postgres = compose[compose.IndexOf("  postgres:", StringComparison.Ordinal)..compose.IndexOf("  api:", StringComparison.Ordinal)];

        Assert.Contains("ASPNETCORE_ENVIRONMENT: Production", compose);
        Assert.Contains("Auth__SigningKey: ${PROJECTIONS_SIGNING_KEY:?", compose);
        Assert.Contains("POSTGRES_PASSWORD: ${POSTGRES_PASSWORD:?", compose);
        Assert.DoesNotContain("ports:", postgres);
        Assert.DoesNotContain(AuthSettings.DevelopmentSigningKey, compose);
        // The repository's own configuration carries no key outside Development.
        Assert.DoesNotContain("SigningKey", File.ReadAllText(Path.Combine(RepositoryRoot.Path, "src/Projections.Api/appsettings.json")));
    }

    private static void Configure(IWebHostBuilder builder, string? key, string? authority, string? audience)
    {
        builder.UseSetting("Auth:SigningKey", key ?? "");
        builder.UseSetting("Auth:Authority", authority ?? "");
        builder.UseSetting("Auth:Audience", audience ?? "");
    }
}
