using System.Security.Claims;
using System.Text;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace Projections.Auth;

/// <summary>Mints HS256 tokens with the configured signing key: for Development, the sample publisher and local tools.</summary>
public static class DevTokens
{
    public static string Mint(AuthSettings options, string role, IEnumerable<string>? permissions = null, string subject = "dev-user",
        TimeSpan? lifetime = null)
    {
        if (string.IsNullOrEmpty(options.SigningKey))
        {
            throw new InvalidOperationException("Minting tokens needs Auth:SigningKey (Development has one built in).");
        }

        var claims = new Dictionary<string, object> { ["role"] = role };
        if (permissions?.ToArray() is { Length: > 0 } granted)
        {
            claims["permissions"] = granted;
        }

        var now = DateTime.UtcNow;
        return new JsonWebTokenHandler().CreateToken(new SecurityTokenDescriptor
        {
            Subject = new ClaimsIdentity([new Claim("sub", subject)]),
            Claims = claims,
            Issuer = options.Issuer,
            Audience = options.Audience,
            IssuedAt = now,
            NotBefore = now,
            Expires = now + (lifetime ?? TimeSpan.FromHours(12)),
            SigningCredentials = new SigningCredentials(new SymmetricSecurityKey(Encoding.UTF8.GetBytes(options.SigningKey)),
                SecurityAlgorithms.HmacSha256),
        });
    }
}
