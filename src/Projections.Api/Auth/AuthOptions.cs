namespace Projections.Auth;

/// <summary>The <c>Auth</c> configuration section (shared/contract/auth.md).</summary>
public sealed class AuthOptions
{
    public const string Section = "Auth";
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
}
