using System.Collections.Concurrent;
using System.Security.Claims;
using Microsoft.AspNetCore.Authentication.JwtBearer;

namespace Projections.Auth;

/// <summary>
/// The tokens this node has validated, with their principals, so that a dashboard polling with the same token is not
/// parsed, verified and turned into claims again on every request (it was the largest cost of a read served from
/// memory). A token is the same token only if it is the same string, signature included, so its validation would give
/// the same answer again, except for time: an entry is used only inside the token's own validity window, widened by the
/// same clock skew the validation allows, so a token is refused at exactly the moment it would be without the cache
/// (the request then goes through the normal validation, which says why). Entries are also forgotten after
/// <see cref="MaxAge"/>, so a signing key withdrawn by the issuer stops its tokens within minutes, and the whole set is
/// dropped when it reaches <see cref="Capacity"/>.
/// </summary>
public sealed class ValidatedTokens(TimeSpan clockSkew)
{
    public const int Capacity = 10_000;
    public static readonly TimeSpan MaxAge = TimeSpan.FromMinutes(5);

    private readonly ConcurrentDictionary<string, Entry> _entries = new(StringComparer.Ordinal);

    private sealed record Entry(ClaimsPrincipal Principal, DateTime NotBefore, DateTime Expires, DateTime ForgetAt);

    /// <summary>The principal of a token validated before, if it is still valid now.</summary>
    public bool TryGet(string token, out ClaimsPrincipal principal)
    {
        principal = null!;
        if (!_entries.TryGetValue(token, out var entry))
        {
            return false;
        }

        // The same rule and clock as the validation (Microsoft.IdentityModel: UtcNow, with the clock skew either way).
        var now = DateTime.UtcNow;
        if (now >= entry.ForgetAt || now - clockSkew > entry.Expires || entry.NotBefore > now + clockSkew)
        {
            _entries.TryRemove(token, out _);
            return false;
        }

        principal = entry.Principal;
        return true;
    }

    /// <summary>Keeps a token that the validation has just accepted.</summary>
    public void Add(string token, ClaimsPrincipal principal, DateTime validFrom, DateTime validTo)
    {
        if (_entries.Count >= Capacity)
        {
            _entries.Clear();
        }

        _entries[token] = new Entry(principal, validFrom, validTo, DateTime.UtcNow + MaxAge);
    }

    /// <summary>The bearer token of a request, as the JWT handler reads it (<c>Authorization: Bearer …</c>).</summary>
    public static string? BearerToken(HttpRequest request)
    {
        var header = request.Headers.Authorization.ToString();
        const string scheme = "Bearer ";
        return header.StartsWith(scheme, StringComparison.OrdinalIgnoreCase) && header.Length > scheme.Length
            ? header[scheme.Length..].Trim()
            : null;
    }

    /// <summary>Wires the cache into the JWT handler's events: answered from it before validation, filled after.</summary>
    public void Attach(JwtBearerEvents events)
    {
        events.OnMessageReceived = context =>
        {
            if (BearerToken(context.Request) is { Length: > 0 } token && TryGet(token, out var principal))
            {
                context.Principal = principal;
                context.Success();
            }

            return Task.CompletedTask;
        };
        events.OnTokenValidated = context =>
        {
            if (context.Principal is { } principal && BearerToken(context.Request) is { Length: > 0 } token)
            {
                Add(token, principal, context.SecurityToken.ValidFrom, context.SecurityToken.ValidTo);
            }

            return Task.CompletedTask;
        };
    }
}
