using System.Security.Claims;
using System.Text;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace Projections.Tests.Infrastructure;

/// <summary>Real signed JWTs for the test host's configuration, and the broken ones the auth tests need.</summary>
public static class TestTokens
{
    public const string SigningKey = "projections-test-signing-key-0123456789abcdef";
    public const string Issuer = "projections-tests";
    public const string Audience = "projections-api";

    public static string Admin => For("admin");
    public static string Service => For("service");

    public static string For(string role, params string[] permissions)
    {
        var claims = new Dictionary<string, object> { ["role"] = role };
        if (permissions.Length > 0)
        {
            claims["permissions"] = permissions;
        }

        return Create(claims);
    }

    public static string Create(IDictionary<string, object> claims, string signingKey = SigningKey, string? issuer = Issuer,
        string? audience = Audience, DateTime? expires = null, DateTime? notBefore = null)
    {
        var now = DateTime.UtcNow;
        return new JsonWebTokenHandler { SetDefaultTimesOnTokenCreation = false }.CreateToken(new SecurityTokenDescriptor
        {
            Subject = new ClaimsIdentity([new Claim("sub", "test-user")]),
            Claims = claims,
            Issuer = issuer,
            Audience = audience,
            IssuedAt = notBefore ?? now.AddMinutes(-1),
            NotBefore = notBefore ?? now.AddMinutes(-1),
            Expires = expires ?? now.AddHours(1),
            SigningCredentials = new SigningCredentials(new SymmetricSecurityKey(Encoding.UTF8.GetBytes(signingKey)), SecurityAlgorithms.HmacSha256),
        });
    }

    /// <summary>A token claiming <c>alg: none</c>, with no signature.</summary>
    public static string Unsigned(string role)
    {
        static string Encode(string json) => Base64UrlEncoder.Encode(Encoding.UTF8.GetBytes(json));
        var exp = DateTimeOffset.UtcNow.AddHours(1).ToUnixTimeSeconds();
        return Encode("""{"alg":"none","typ":"JWT"}""") + "." +
               Encode($$"""{"sub":"x","role":"{{role}}","iss":"{{Issuer}}","aud":"{{Audience}}","exp":{{exp}}}""") + ".";
    }
}
