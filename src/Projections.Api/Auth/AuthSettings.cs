using System.Text;
using Projections.Hosting;

namespace Projections.Auth;

/// <summary>The <c>Auth</c> configuration section (shared/contract/auth.md).</summary>
public sealed class AuthSettings : ISettings
{
    public static string Section => "Auth";
    public const int MinimumSigningKeyBytes = 32;

    /// <summary>The key appsettings.Development.json signs with: public, so refused in any other environment.</summary>
    public const string DevelopmentSigningKey = "projections-development-signing-key-do-not-use-in-production";

    /// <summary>HS256 shared secret (at least 32 bytes), as Supabase projects sign with.</summary>
    public string? SigningKey { get; set; }

    /// <summary>OpenID Connect authority whose discovery document and JWKS validate RS256/ES256 tokens.</summary>
    public string? Authority { get; set; }

    public string? Issuer { get; set; }
    public string? Audience { get; set; }

    /// <summary>Claim holding the role; a dotted path reads into a JSON claim (Supabase: <c>app_metadata.role</c>).</summary>
    public string RoleClaim { get; set; } = "role";

    /// <summary>Claim holding the permissions (a JSON array or a space-separated string); same path rule.</summary>
    public string PermissionsClaim { get; set; } = "permissions";

    /// <summary>Whether the OIDC metadata must come over HTTPS (turn off only for a local test authority).</summary>
    public bool RequireHttpsMetadata { get; set; } = true;

    public IEnumerable<string> Problems(IHostEnvironment environment)
    {
        if (!string.IsNullOrEmpty(SigningKey) && Encoding.UTF8.GetByteCount(SigningKey) < MinimumSigningKeyBytes)
        {
            yield return $"Auth:SigningKey must be at least {MinimumSigningKeyBytes} bytes.";
        }

        if (string.IsNullOrEmpty(SigningKey) && string.IsNullOrEmpty(Authority))
        {
            yield return $"No token validation is configured for the {environment.EnvironmentName} environment: set Auth:SigningKey " +
                         "(an HS256 secret of at least 32 bytes, e.g. the environment variable Auth__SigningKey) or Auth:Authority " +
                         "(an OpenID Connect issuer). Development has a built-in key in appsettings.Development.json.";
        }

        if (environment.IsDevelopment())
        {
            yield break;
        }

        // Outside Development, refuse what would accept tokens nobody meant to accept.
        if (!string.IsNullOrEmpty(SigningKey) && !string.IsNullOrEmpty(Authority))
        {
            yield return "Both Auth:SigningKey and Auth:Authority are set: configure one way of validating tokens (a shared HS256 secret, " +
                         "or an OpenID Connect authority), not both.";
        }

        if (!string.IsNullOrEmpty(Authority) && string.IsNullOrEmpty(Audience))
        {
            yield return "Auth:Authority is set without Auth:Audience: every token that authority issues, for any application, would be " +
                         "accepted. Set Auth:Audience to this service's audience.";
        }

        if (SigningKey == DevelopmentSigningKey)
        {
            yield return $"Auth:SigningKey is the built-in Development key, which is public, in the {environment.EnvironmentName} " +
                         "environment: set a secret of your own (e.g. Auth__SigningKey=$(openssl rand -base64 48)).";
        }
    }
}
