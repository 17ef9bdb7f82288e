// Auth/: token validation, roles and permissions (shared/contract/auth.md), dev tokens. Uses Hosting.
using System.Text;
using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.IdentityModel.Tokens;
using Projections.Hosting;

namespace Projections.Auth;

/// <summary>JWT bearer validation and the contract's access rules, in one place.</summary>
public static class AuthSetup
{
    public const string AdminOnly = "admin";
    public const string CustomerCounts = "customer-counts";
    public const string InventoryMetrics = "inventory-metrics";
    public const string PublishEvents = "publish-events";

    /// <summary>The Prometheus scrape: admins, and service tokens (what a scraper is given).</summary>
    public const string ReadTelemetry = "read-telemetry";

    /// <summary>How far past its expiry (or before its start) a token is still accepted: clocks differ between machines.</summary>
    public static readonly TimeSpan ClockSkew = TimeSpan.FromSeconds(30);

    public static WebApplicationBuilder AddProjectionsAuth(this WebApplicationBuilder builder)
    {
        var options = builder.AddSettings<AuthSettings>();
        builder.Services.AddSingleton(options);

        builder.Services.AddAuthentication(JwtBearerDefaults.AuthenticationScheme).AddJwtBearer(jwt =>
        {
            jwt.MapInboundClaims = false;
            jwt.RequireHttpsMetadata = options.RequireHttpsMetadata;
            jwt.TokenValidationParameters = new TokenValidationParameters
            {
                RequireSignedTokens = true,
                RequireExpirationTime = true,
                ValidateLifetime = true,
                ClockSkew = ClockSkew,
                ValidateIssuer = !string.IsNullOrEmpty(options.Issuer),
                ValidIssuer = options.Issuer,
                ValidateAudience = !string.IsNullOrEmpty(options.Audience),
                ValidAudience = options.Audience,
                RoleClaimType = options.RoleClaim,
                NameClaimType = "sub",
            };
            if (!string.IsNullOrEmpty(options.SigningKey))
            {
                jwt.TokenValidationParameters.IssuerSigningKey = new SymmetricSecurityKey(Encoding.UTF8.GetBytes(options.SigningKey));
                jwt.TokenValidationParameters.ValidAlgorithms = [SecurityAlgorithms.HmacSha256];
            }
            else
            {
                jwt.Authority = options.Authority;
                jwt.TokenValidationParameters.ValidAlgorithms =
                    [SecurityAlgorithms.RsaSha256, SecurityAlgorithms.RsaSha384, SecurityAlgorithms.RsaSha512,
                     SecurityAlgorithms.EcdsaSha256, SecurityAlgorithms.EcdsaSha384, SecurityAlgorithms.EcdsaSha512];
            }

            jwt.Events = new JwtBearerEvents
            {
                OnChallenge = async context =>
                {
                    context.HandleResponse();
                    var detail = context.AuthenticateFailure is null
                        ? "A bearer token is required: Authorization: Bearer <token>."
                        : "The bearer token is not valid: " + Describe(context.AuthenticateFailure);
                    context.Response.StatusCode = StatusCodes.Status401Unauthorized;
                    context.Response.Headers.WWWAuthenticate = context.AuthenticateFailure is null
                        ? "Bearer"
                        : "Bearer error=\"invalid_token\"";
                    await Problems.Write(context.HttpContext, StatusCodes.Status401Unauthorized, "Unauthorized", detail);
                },
                OnForbidden = context => Problems.Write(context.HttpContext, StatusCodes.Status403Forbidden, "Forbidden",
                    "The token is valid, but its role or permissions do not allow this request."),
            };
            new ValidatedTokens(ClockSkew).Attach(jwt.Events);
        });

        builder.Services.AddAuthorizationBuilder()
            .AddPolicy(AdminOnly, p => p.RequireAssertion(c => Caller.From(c.User, options).Is(Caller.Admin)))
            .AddPolicy(CustomerCounts, p => p.RequireAssertion(c =>
                Caller.From(c.User, options) is var caller && (caller.Is(Caller.Admin) || caller.IsStaffWith(Caller.ViewCustomers))))
            .AddPolicy(InventoryMetrics, p => p.RequireAssertion(c =>
                Caller.From(c.User, options) is var caller && (caller.Is(Caller.Admin) || caller.IsStaffWith(Caller.ManageInventory))))
            .AddPolicy(PublishEvents, p => p.RequireAssertion(c =>
                Caller.From(c.User, options) is var caller && (caller.Is(Caller.Service) || caller.Is(Caller.Admin))))
            .AddPolicy(ReadTelemetry, p => p.RequireAssertion(c =>
                Caller.From(c.User, options) is var caller && (caller.Is(Caller.Service) || caller.Is(Caller.Admin))));
        return builder;
    }

    private static string Describe(Exception failure) => failure switch
    {
        SecurityTokenExpiredException => "the token has expired.",
        SecurityTokenNotYetValidException => "the token is not valid yet.",
        SecurityTokenInvalidIssuerException => "the issuer is not accepted.",
        SecurityTokenInvalidAudienceException => "the audience is not accepted.",
        SecurityTokenInvalidSignatureException or SecurityTokenSignatureKeyNotFoundException => "the signature does not verify.",
        SecurityTokenInvalidAlgorithmException => "the signing algorithm is not accepted.",
        _ => "the token could not be read or verified.",
    };
}
