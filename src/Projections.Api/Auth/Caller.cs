using System.Security.Claims;
using System.Text.Json;

namespace Projections.Auth;

/// <summary>Who is calling, in the contract's terms: one role and a set of permissions, read from the token's claims.</summary>
public sealed record Caller(string? Role, IReadOnlySet<string> Permissions)
{
    public const string Admin = "admin";
    public const string Staff = "staff";
    public const string Service = "service";
    public const string ViewCustomers = "view_customers";
    public const string ManageInventory = "manage_inventory";

    public bool Is(string role) => string.Equals(Role, role, StringComparison.Ordinal);

    public bool IsStaffWith(string permission) => Is(Staff) && Permissions.Contains(permission);

    /// <summary>What a principal is allowed, worked out once per principal (a cached token's principal serves many
    /// requests, see <see cref="ValidatedTokens"/>).</summary>
    private static readonly System.Runtime.CompilerServices.ConditionalWeakTable<ClaimsPrincipal, Tuple<AuthSettings, Caller>> Known = [];

    public static Caller From(ClaimsPrincipal principal, AuthSettings options)
    {
        if (Known.TryGetValue(principal, out var known) && ReferenceEquals(known.Item1, options))
        {
            return known.Item2;
        }

        var caller = Read(principal, options);
        Known.AddOrUpdate(principal, Tuple.Create(options, caller));
        return caller;
    }

    private static Caller Read(ClaimsPrincipal principal, AuthSettings options)
    {
        var role = ClaimValues(principal, options.RoleClaim).FirstOrDefault();
        var permissions = ClaimValues(principal, options.PermissionsClaim)
            .SelectMany(p => p.Split(' ', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            .ToHashSet(StringComparer.Ordinal);
        return new Caller(role, permissions);
    }

    /// <summary>
    /// The string values of a claim named by a path: <c>role</c> is a top-level claim; <c>app_metadata.role</c> reads
    /// <c>role</c> inside the JSON object claim <c>app_metadata</c>. Arrays give one value per string element.
    /// </summary>
    internal static IEnumerable<string> ClaimValues(ClaimsPrincipal principal, string path)
    {
        var dot = path.IndexOf('.');
        var top = dot < 0 ? path : path[..dot];
        var rest = dot < 0 ? null : path[(dot + 1)..];
        foreach (var claim in principal.FindAll(top))
        {
            if (rest is null)
            {
                // A JSON array claim arrives as one claim per element; a nested object arrives as raw JSON.
                foreach (var value in claim.ValueType == "JSON_ARRAY" ? StringsOf(Parse(claim.Value)) : [claim.Value])
                {
                    yield return value;
                }

                continue;
            }

            var element = Parse(claim.Value);
            foreach (var segment in rest.Split('.'))
            {
                if (element is not { ValueKind: JsonValueKind.Object } obj || !obj.TryGetProperty(segment, out var child))
                {
                    element = null;
                    break;
                }

                element = child;
            }

            foreach (var value in StringsOf(element))
            {
                yield return value;
            }
        }
    }

    private static JsonElement? Parse(string json)
    {
        try
        {
            using var document = JsonDocument.Parse(json);
            return document.RootElement.Clone();
        }
        catch (JsonException)
        {
            return null;
        }
    }

    private static IEnumerable<string> StringsOf(JsonElement? element) => element switch
    {
        { ValueKind: JsonValueKind.String } s => [s.GetString()!],
        { ValueKind: JsonValueKind.Array } a => a.EnumerateArray().Where(e => e.ValueKind == JsonValueKind.String).Select(e => e.GetString()!).ToList(),
        _ => [],
    };
}
