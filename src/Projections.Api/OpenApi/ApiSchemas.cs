using System.Text.Json.Nodes;
using Microsoft.OpenApi;
using Projections.Ingest;

namespace Projections.OpenApi;

/// <summary>
/// The bodies the service writes by hand (with <c>Utf8JsonWriter</c>), described by hand: each schema names the writer
/// it mirrors, so a change there has one obvious place to follow here, and <c>OpenApiTests</c> reads every read route's
/// real body against these schemas. Bodies that System.Text.Json serializes from records (the admin routes', the
/// ingest receipt) are described from their types by the generator instead.
/// </summary>
internal static class ApiSchemas
{
    public const string AdminDashboard = "AdminDashboard";
    public const string StaffDashboard = "StaffDashboard";
    public const string InventoryMetrics = "InventoryMetrics";
    public const string AnalyticsResponse = "AnalyticsResponse";
    public const string Problem = "ProblemDetails";
    public const string IngestProblem = "IngestProblem";
    public const string RebuildConflict = "RebuildConflictProblem";
    public const string EventEnvelope = "EventEnvelope";

    /// <summary>Adds every hand-described schema to the document's components (replacing the generator's
    /// <c>ProblemDetails</c>, which does not know the service's <c>traceId</c> and writes <c>status</c> as a string too).</summary>
    public static void AddTo(OpenApiDocument document)
    {
        var schemas = document.Components!.Schemas ??= new Dictionary<string, IOpenApiSchema>(StringComparer.Ordinal);
        IOpenApiSchema Ref(string id) => new OpenApiSchemaReference(id, document);

        // Users/UserCountsJson.cs and Inventory/InventoryJson.cs.
        schemas[StaffDashboard] = Object("`GET /metrics/staff-dashboard`: the customer counts.",
            CustomerCounts);
        schemas[InventoryMetrics] = Object(
            "`GET /metrics/inventory`: the product and inventory metrics. Revenue figures are " +
            "potential revenue (quantity × price) over products with both a price and an inventory record; the three totals add " +
            "up every currency, and `inventory_revenue_by_currency` gives the same figures per currency.",
            [.. InventoryFields(Ref)]);
        schemas[AdminDashboard] = Object(
            "`GET /metrics/admin-dashboard`: every user count and the product and inventory metrics.",
            [.. UserCounts, .. InventoryFields(Ref)]);
        schemas["InventoryRevenue"] = Object("Potential revenue of one currency's priced products with an inventory record.",
            ("total_inventory_revenue", Money("Σ stock × price.")),
            ("reserved_inventory_revenue", Money("Σ reserved × price.")),
            ("available_inventory_revenue", Money("Σ (stock − reserved) × price.")));

        // Analytics/AnalyticsReport.cs (WriteJson, WriteFigures, WriteDateRange).
        schemas[AnalyticsResponse] = Object("`GET /api/admin/analytics` as JSON.",
            ("analytics", Ref("Analytics")));
        schemas["Analytics"] = Object(
            "The figures of the range, its daily timeline and the range itself; with `compare=previous_period`, also " +
            "`previousPeriod`.",
            [.. PeriodFields(Ref),
             ("timeline", Array(Ref("TimelineDay"), "One entry per day of the range (a calendar day in `tz`), oldest first, zero-filled.")),
             ("dateRange", Ref("DateRange")),
             ("previousPeriod", Ref("AnalyticsPreviousPeriod"))]).Optional("previousPeriod");
        schemas["AnalyticsPreviousPeriod"] = Object(
            "Present only with `compare=previous_period`: the same figures for as many days, ending the day before " +
            "`start_date`, in the same zone (no timeline).",
            [.. PeriodFields(Ref), ("dateRange", Ref("DateRange"))]);
        schemas["AnalyticsOverview"] = Object("Orders placed in the range, cancelled ones left out.",
            ("totalOrders", Count("Orders placed in the range, not cancelled.")),
            ("totalRevenue", Money("Σ quantity × unit price of those orders, before commission.")),
            ("galleryRevenue", Money("The gallery's commission: totalRevenue × Analytics:GalleryCommissionRate (default 0.12), rounded to cents.")),
            ("artistPayouts", Money("totalRevenue − galleryRevenue: what is paid out to artists.")),
            ("averageOrderValue", Money("totalRevenue / totalOrders, rounded to cents; 0 with no orders.")),
            ("totalItemsSold", Count("Σ quantity of those orders' items.")));
        schemas["OrdersByStatus"] = Object("The orders placed in the range by their current status (cancelled ones too).",
            [.. EventContract.Statuses.OrderBy(s => s.Value).Select(s => (s.Key, (IOpenApiSchema)Count($"Orders whose current status is `{s.Key}`.")))]);
        schemas["TopArtist"] = Object("One of the artists (organisations) with the highest revenue from the range's orders.",
            ("orgId", Text("The artist's organisation id.")),
            ("artistName", Text("The latest `artist.profile_updated` name, else the orgId.")),
            ("totalOrders", Count("Orders with at least one of the artist's items.")),
            ("totalRevenue", Money("Revenue from the artist's items.")),
            ("artistPayout", Money("totalRevenue less the gallery's commission on it.")),
            ("itemsSold", Count("Quantity of the artist's items sold.")));
        schemas["CartMetrics"] = Object("Carts created in the range.",
            ("activeCarts", Count("Carts with at least one item (a checked-out cart keeps its contents).")),
            ("averageCartValue", Money("Mean value of the active carts, rounded to cents; 0 with none.")),
            ("abandonmentRate", Decimal("Percentage of active carts not checked out, 2 decimals; 0 with none.")),
            ("averageItemsPerCart", Decimal("Mean quantity of the active carts, 2 decimals; 0 with none.")));
        schemas["ReferralMetrics"] = Object("Gallery → artist store clicks in the range, and the store orders attributed to them.",
            ("totalReferrals", Count("Clicks in the range.")),
            ("conversions", Count("Clicks with at least one attributed artist-store order (same visitor and store, within 30 days).")),
            ("conversionRate", Decimal("conversions / totalReferrals × 100, 2 decimals; 0 with no clicks.")),
            ("attributedRevenue", Money("Σ amount of the artist-store orders attributed to those clicks.")));
        schemas["TimelineDay"] = Object("One calendar day of the range.",
            ("date", Text("The day (local to `tz`), `YYYY-MM-DD`.", "date")),
            ("orders", Count("Orders placed that day, not cancelled.")),
            ("revenue", Money("Their revenue.")),
            ("newCarts", Count("Carts created that day.")));
        schemas["DateRange"] = Object(
            "The first instant of the first day and the last second of the last day, with the zone's offset at each end " +
            "(`Z` in UTC).",
            ("start", Text("e.g. `2024-01-01T00:00:00Z`, or `2024-03-31T00:00:00+01:00` with a `tz`.", "date-time")),
            ("end", Text("e.g. `2024-01-31T23:59:59Z`.", "date-time")));

        // Hosting/Problems.cs: every error is problem+json (RFC 9457); ASP.NET Core adds traceId.
        schemas[Problem] = Object("An error (RFC 9457 problem details). Further members may be added.", ProblemFields)
            .Optional("detail", "traceId");
        schemas[IngestProblem] = Object("A refused batch: with `errors` when envelopes are invalid (nothing of the batch was stored).",
            [.. ProblemFields,
             ("errors", Array(Object("One invalid envelope.",
                 ("index", Count("Its position in the batch, from 0.", "int32")),
                 ("id", Nullable(Text("Its `id` as sent, or null when it had none that could be read."))),
                 ("error", Text("Everything wrong with it, separated by `; `."))), "Every invalid envelope."))])
            .Optional("detail", "traceId", "errors");

        schemas[RebuildConflict] = Object("A rebuild is already running or about to start.",
            [.. ProblemFields,
             ("rebuildId", Text("The running rebuild, when one is running.")),
             ("statusUrl", Text("Where its status is read."))])
            .Optional("detail", "traceId", "rebuildId", "statusUrl");

        // Ingest/EventContract.cs; every field of every type is listed in docs/events-v1.md.
        schemas[EventEnvelope] = Object(
            "One event, as the v1 contract (docs/events-v1.md) defines it. The same `id` again is a duplicate: acknowledged, " +
            "without effect.",
            ("id", Text("Unique per event, chosen by the publisher.", "uuid")),
            ("type", Enum("The event type.", EventContract.Types.Select(t => t.Name))),
            ("occurredAt", Text("When it happened: an ISO-8601 instant with offset or `Z`, from 2000-01-01 to 24 hours " +
                "after the service's clock. It decides the event's day.", "date-time")),
            ("data", new OpenApiSchema
            {
                Type = JsonSchemaType.Object,
                Description = "The event's fields, camelCase, as docs/events-v1.md lists them per type (ids 1 to 128 " +
                    "characters, money a number with at most 2 decimals, quantities integers).",
            }));
    }

    private static IEnumerable<(string, IOpenApiSchema)> CustomerCounts =>
    [
        ("total_customers", Count("Users whose current role is customer (deleted users count nowhere).")),
        ("active_customers", Count("Of those, active.")),
        ("inactive_customers", Count("Of those, inactive.")),
        ("customers_email_verified", Count("Of those, with a verified email address.")),
        ("customers_phone_verified", Count("Of those, with a verified phone number.")),
    ];

    /// <summary>The fifteen user counts in the order UserCountsJson.WriteAll writes them.</summary>
    private static IEnumerable<(string, IOpenApiSchema)> UserCounts =>
    [
        ("total_customers", Count("Users whose current role is customer (deleted users count nowhere).")),
        ("total_staff", Count("Users whose current role is staff.")),
        ("total_admins", Count("Users whose current role is admin.")),
        ("active_customers", Count("Active customers.")),
        ("inactive_customers", Count("Inactive customers.")),
        ("active_staff", Count("Active staff.")),
        ("inactive_staff", Count("Inactive staff.")),
        ("active_admins", Count("Active admins.")),
        ("inactive_admins", Count("Inactive admins.")),
        ("customers_email_verified", Count("Customers with a verified email address.")),
        ("customers_phone_verified", Count("Customers with a verified phone number.")),
        ("staff_email_verified", Count("Staff with a verified email address.")),
        ("staff_phone_verified", Count("Staff with a verified phone number.")),
        ("admins_email_verified", Count("Admins with a verified email address.")),
        ("admins_phone_verified", Count("Admins with a verified phone number.")),
    ];

    private static IEnumerable<(string, IOpenApiSchema)> InventoryFields(Func<string, IOpenApiSchema> reference) =>
    [
        ("total_products", Count("Products counted: undeleted ones, and only active ones with `active_only` true (the default).")),
        ("total_products_with_inventory", Count("Of those, with an inventory record (any `inventory.*` event).")),
        ("total_products_with_pricing", Count("Of those, with a price.")),
        ("total_stock_quantity", Count("Σ stock.")),
        ("total_reserved_quantity", Count("Σ reserved.")),
        ("total_available_quantity", Count("Σ (stock − reserved); may be negative.")),
        ("products_in_stock", Count("Products with an inventory record and available > 0.")),
        ("products_low_stock", Count("Of those in stock, available ≤ the product's low-stock threshold (default 5).")),
        ("products_out_of_stock", Count("Products with an inventory record and available ≤ 0.")),
        ("total_inventory_revenue", Money("Σ stock × price, every currency added up.")),
        ("reserved_inventory_revenue", Money("Σ reserved × price, every currency added up.")),
        ("available_inventory_revenue", Money("Σ (stock − reserved) × price, every currency added up.")),
        ("inventory_revenue_by_currency", Map(reference("InventoryRevenue"),
            "The three revenue figures per currency (ISO 4217 code as sent by the shop), codes in ordinal order.")),
    ];

    private static IEnumerable<(string, IOpenApiSchema)> PeriodFields(Func<string, IOpenApiSchema> reference) =>
    [
        ("overview", reference("AnalyticsOverview")),
        ("ordersByStatus", reference("OrdersByStatus")),
        ("topArtists", Array(reference("TopArtist"), "The 10 artists with the highest revenue (ties: lower orgId first).", maxItems: 10)),
        ("cartMetrics", reference("CartMetrics")),
        ("referralMetrics", reference("ReferralMetrics")),
    ];

    private static IEnumerable<(string, IOpenApiSchema)> ProblemFields =>
    [
        ("type", Text("A URI reference naming the kind of problem.", "uri-reference")),
        ("title", Text("A short summary of the kind of problem.")),
        ("status", Count("The HTTP status code.", "int32")),
        ("detail", Text("What went wrong in this request, and what to do about it.")),
        ("traceId", Text("The W3C trace id of the request, for the logs.")),
    ];

    /// <summary>An object whose properties are all required (bodies change only by adding; clients ignore the unknown).</summary>
    public static OpenApiSchema Object(string description, params IEnumerable<(string Name, IOpenApiSchema Schema)> properties)
    {
        var list = properties.ToList();
        return new OpenApiSchema
        {
            Type = JsonSchemaType.Object,
            Description = description,
            Properties = list.ToDictionary(p => p.Name, p => p.Schema, StringComparer.Ordinal),
            Required = new SortedSet<string>(list.Select(p => p.Name), StringComparer.Ordinal),
        };
    }

    /// <summary>Marks properties as ones a body may leave out.</summary>
    public static OpenApiSchema Optional(this OpenApiSchema schema, params string[] names)
    {
        foreach (var name in names)
        {
            schema.Required!.Remove(name);
        }

        return schema;
    }

    /// <summary>A count or quantity: a JSON integer.</summary>
    public static OpenApiSchema Count(string description, string format = "int64") =>
        new() { Type = JsonSchemaType.Integer, Format = format, Description = description };

    /// <summary>Money: a JSON number written with two decimals (<c>1850000.00</c>).</summary>
    public static OpenApiSchema Money(string description) =>
        new() { Type = JsonSchemaType.Number, Format = "decimal", Description = description + " Two decimals." };

    /// <summary>A ratio or percentage: a JSON number rounded to two decimals.</summary>
    public static OpenApiSchema Decimal(string description) =>
        new() { Type = JsonSchemaType.Number, Format = "decimal", Description = description };

    public static OpenApiSchema Text(string description, string? format = null) =>
        new() { Type = JsonSchemaType.String, Format = format, Description = description };

    public static OpenApiSchema Enum(string description, IEnumerable<string> values) =>
        new() { Type = JsonSchemaType.String, Description = description, Enum = [.. values.Select(v => (JsonNode)v)] };

    public static OpenApiSchema Array(IOpenApiSchema items, string description, int? maxItems = null) =>
        new() { Type = JsonSchemaType.Array, Items = items, Description = description, MaxItems = maxItems };

    public static OpenApiSchema Map(IOpenApiSchema values, string description) =>
        new() { Type = JsonSchemaType.Object, AdditionalProperties = values, Description = description };

    private static OpenApiSchema Nullable(OpenApiSchema schema)
    {
        schema.Type |= JsonSchemaType.Null;
        return schema;
    }
}
