using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;

namespace Projections.Tests.Analytics;

/// <summary>
/// An independent, deliberately plain computation of <c>GET /api/admin/analytics</c> (shared/seeds/003) from the delivered
/// wire envelopes, straight from the contract's "Gallery analytics" definitions (shared/contract/events-v1.md) and the
/// decisions taken where the contract is silent. It shares no code with the service: it reads the envelopes as JSON,
/// drops redelivered ids (first delivery wins), keeps the final state of every order, cart, click, store order and artist,
/// and counts over it for a range of whole UTC days on request. Build it once with <see cref="Replay"/>, then ask it for
/// as many ranges as needed.
/// </summary>
public sealed class AnalyticsReference
{
    public const decimal DefaultRate = 0.12m;

    /// <summary>The keys of <c>ordersByStatus</c>, in the contract's order.</summary>
    public static readonly string[] Statuses = ["pending", "paid", "processing", "partially_shipped", "shipped", "delivered", "cancelled"];

    private static readonly TimeSpan AttributionWindow = TimeSpan.FromDays(30);

    private sealed record Item(string OrgId, int Quantity, decimal UnitPrice);

    /// <summary>One status-bearing event of an order; the greatest (At, Rank, Delivery) is the current status.</summary>
    /// <param name="Rank">0 for <c>order.placed</c> (pending), 1 for <c>order.status_changed</c>: on equal instants a change wins.</param>
    /// <param name="Delivery">Position in the deduplicated delivery: between equal changes the later-delivered wins.</param>
    private sealed record StatusMark(DateTime At, int Rank, long Delivery, string Status) : IComparable<StatusMark>
    {
        public int CompareTo(StatusMark? other) =>
            other is null ? 1 : (At, Rank, Delivery).CompareTo((other.At, other.Rank, other.Delivery));
    }

    private sealed class Order
    {
        public DateTime? PlacedAt;
        public List<Item> Items = [];
        public StatusMark? Current;

        public void Mark(StatusMark mark)
        {
            if (Current is null || mark.CompareTo(Current) > 0)
            {
                Current = mark;
            }
        }
    }

    private sealed class Line
    {
        public long Quantity;
        public decimal UnitPrice;
    }

    private sealed class Cart
    {
        public DateTime? CreatedAt;
        public bool CheckedOut;
        public readonly Dictionary<string, Line> Lines = new(StringComparer.Ordinal);

        public decimal Value => Lines.Values.Sum(l => l.Quantity * l.UnitPrice);
        public long Items => Lines.Values.Sum(l => l.Quantity);
        public bool Active => Lines.Count > 0;
    }

    private sealed record Click(string ReferralId, string VisitorId, string OrgId, DateTime At);

    private sealed record StoreOrder(string VisitorId, string OrgId, decimal Amount, DateTime At);

    private sealed record ArtistName(DateTime At, long Delivery, string Name);

    private readonly Dictionary<string, Order> _orders = new(StringComparer.Ordinal);
    private readonly Dictionary<string, Cart> _carts = new(StringComparer.Ordinal);
    private readonly Dictionary<string, Click> _clicks = new(StringComparer.Ordinal);
    private readonly Dictionary<(string OrgId, string OrderId), StoreOrder> _storeOrders = [];
    private readonly Dictionary<string, ArtistName> _artists = new(StringComparer.Ordinal);
    private readonly decimal _rate;

    /// <summary>The click each store order is attributed to (null: not attributed), worked out once after the replay.</summary>
    private readonly Dictionary<Click, List<StoreOrder>> _attributed = [];

    private AnalyticsReference(decimal rate) => _rate = rate;

    /// <summary>Replays a delivery (redeliveries included, in delivery order).</summary>
    public static AnalyticsReference Replay(IEnumerable<JsonObject> delivered, decimal rate = DefaultRate)
    {
        var reference = new AnalyticsReference(rate);
        var seen = new HashSet<Guid>();
        long delivery = 0;
        foreach (var envelope in delivered)
        {
            if (!seen.Add(Guid.Parse((string)envelope["id"]!)))
            {
                continue;
            }

            reference.Apply((string)envelope["type"]!, envelope["data"]!.AsObject(), Instant((string)envelope["occurredAt"]!), delivery++);
        }

        reference.Attribute();
        return reference;
    }

    /// <summary>An ISO-8601 instant with offset or Z, as a UTC <see cref="DateTime"/>.</summary>
    public static DateTime Instant(string text) =>
        DateTimeOffset.Parse(text, CultureInfo.InvariantCulture, DateTimeStyles.None).UtcDateTime;

    public static decimal Round(decimal value) => Math.Round(value, 2, MidpointRounding.AwayFromZero);

    private void Apply(string type, JsonObject data, DateTime at, long delivery)
    {
        switch (type)
        {
            case "order.placed":
                {
                    var order = OrderOf((string)data["orderId"]!);
                    if (order.PlacedAt is not null)
                    {
                        break; // a second order.placed for the same order: the first one stands
                    }

                    order.PlacedAt = at;
                    order.Items = data["items"]!.AsArray()
                        .Select(i => new Item((string)i!["orgId"]!, Int(i["quantity"]), Dec(i["unitPrice"])))
                        .ToList();
                    order.Mark(new StatusMark(at, 0, delivery, "pending"));
                    break;
                }

            case "order.status_changed":
                OrderOf((string)data["orderId"]!).Mark(new StatusMark(at, 1, delivery, (string)data["status"]!));
                break;

            case "cart.created":
                {
                    var cart = CartOf((string)data["cartId"]!);
                    cart.CreatedAt ??= at;
                    break;
                }

            case "cart.item_added":
                {
                    var lines = CartOf((string)data["cartId"]!).Lines;
                    var productId = (string)data["productId"]!;
                    var line = lines.TryGetValue(productId, out var existing) ? existing : lines[productId] = new Line();
                    line.Quantity += Int(data["quantity"]);
                    line.UnitPrice = Dec(data["unitPrice"]);
                    break;
                }

            case "cart.item_removed":
                {
                    var lines = CartOf((string)data["cartId"]!).Lines;
                    var productId = (string)data["productId"]!;
                    if (lines.TryGetValue(productId, out var line))
                    {
                        line.Quantity -= Int(data["quantity"]);
                        if (line.Quantity <= 0)
                        {
                            lines.Remove(productId);
                        }
                    }

                    break;
                }

            case "cart.checked_out":
                CartOf((string)data["cartId"]!).CheckedOut = true;
                break;

            case "referral.clicked":
                {
                    var referralId = (string)data["referralId"]!;
                    _clicks.TryAdd(referralId, new Click(referralId, (string)data["visitorId"]!, (string)data["orgId"]!, at));
                    break;
                }

            case "artist_store.order_completed":
                _storeOrders.TryAdd(((string)data["orgId"]!, (string)data["orderId"]!),
                    new StoreOrder((string)data["visitorId"]!, (string)data["orgId"]!, Dec(data["amount"]), at));
                break;

            case "artist.profile_updated":
                {
                    var orgId = (string)data["orgId"]!;
                    var name = new ArtistName(at, delivery, (string)data["name"]!);
                    if (!_artists.TryGetValue(orgId, out var current) || (name.At, name.Delivery).CompareTo((current.At, current.Delivery)) > 0)
                    {
                        _artists[orgId] = name;
                    }

                    break;
                }
        }
    }

    private Order OrderOf(string orderId) => _orders.TryGetValue(orderId, out var order) ? order : _orders[orderId] = new Order();

    private Cart CartOf(string cartId) => _carts.TryGetValue(cartId, out var cart) ? cart : _carts[cartId] = new Cart();

    /// <summary>Each store order goes to the latest click by the same visitor to the same store in [order − 30 days, order].</summary>
    private void Attribute()
    {
        var clicksByVisitorAndStore = _clicks.Values.ToLookup(c => (c.VisitorId, c.OrgId));
        foreach (var order in _storeOrders.Values)
        {
            var click = clicksByVisitorAndStore[(order.VisitorId, order.OrgId)]
                .Where(c => c.At <= order.At && c.At >= order.At - AttributionWindow)
                .OrderByDescending(c => c.At)
                .ThenByDescending(c => c.ReferralId, StringComparer.Ordinal)
                .FirstOrDefault();
            if (click is not null)
            {
                (_attributed.TryGetValue(click, out var orders) ? orders : _attributed[click] = []).Add(order);
            }
        }
    }

    /// <summary>
    /// The whole expected response, <c>{ "analytics": { ... } }</c>, for the calendar days <paramref name="start"/> to
    /// <paramref name="end"/> in <paramref name="zone"/> (UTC when not given), with the previous period when asked for.
    /// </summary>
    public JsonObject Expected(DateOnly start, DateOnly end, TimeZoneInfo? zone = null, bool previousPeriod = false)
    {
        zone ??= TimeZoneInfo.Utc;
        var analytics = Figures(start, end, zone, timeline: true);
        if (previousPeriod)
        {
            var days = end.DayNumber - start.DayNumber + 1;
            analytics["previousPeriod"] = Figures(start.AddDays(-days), start.AddDays(-1), zone, timeline: false);
        }

        return new JsonObject { ["analytics"] = analytics };
    }

    /// <summary>The calendar day an instant (UTC) falls on in a zone.</summary>
    public static DateOnly LocalDay(DateTime utc, TimeZoneInfo zone) => DateOnly.FromDateTime(TimeZoneInfo.ConvertTimeFromUtc(utc, zone));

    /// <summary>
    /// The first UTC second whose calendar day in <paramref name="zone"/> is <paramref name="day"/> or later, found by a
    /// binary search over UTC seconds for where the zone's date changes: it holds on days of 23 or 25 hours and where a
    /// change skips midnight, without asking the zone where its midnight is.
    /// </summary>
    public static DateTime FirstSecondOf(DateOnly day, TimeZoneInfo zone)
    {
        var (low, high) = (day.ToDateTime(TimeOnly.MinValue).AddDays(-2), day.ToDateTime(TimeOnly.MinValue).AddDays(2));
        while (high - low > TimeSpan.FromSeconds(1))
        {
            var middle = low + TimeSpan.FromSeconds(Math.Floor((high - low).TotalSeconds / 2));
            (low, high) = LocalDay(DateTime.SpecifyKind(middle, DateTimeKind.Utc), zone) >= day ? (low, middle) : (middle, high);
        }

        return DateTime.SpecifyKind(high, DateTimeKind.Utc);
    }

    /// <summary>How long a calendar day lasts in a zone: 24 hours, or 23 and 25 on daylight-saving changes.</summary>
    public static TimeSpan LengthOf(DateOnly day, TimeZoneInfo zone) => FirstSecondOf(day.AddDays(1), zone) - FirstSecondOf(day, zone);

    /// <summary>
    /// The first instant of the local day <paramref name="first"/> and the last second of the local day
    /// <paramref name="last"/>, written with the zone's offset at each (Z in UTC).
    /// </summary>
    public static (string Start, string End) Bounds(DateOnly first, DateOnly last, TimeZoneInfo zone)
    {
        string Write(DateTime utc) => zone.Id == TimeZoneInfo.Utc.Id
            ? utc.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture)
            : new DateTimeOffset(utc).ToOffset(zone.GetUtcOffset(utc)).ToString("yyyy-MM-dd'T'HH:mm:sszzz", CultureInfo.InvariantCulture);

        return (Write(FirstSecondOf(first, zone)), Write(FirstSecondOf(last.AddDays(1), zone).AddSeconds(-1)));
    }

    private JsonObject Figures(DateOnly start, DateOnly end, TimeZoneInfo zone, bool timeline)
    {
        DateOnly DayOf(DateTime at) => LocalDay(at, zone);
        bool InRange(DateTime at) => DayOf(at) is var day && day >= start && day <= end;
        var placed = _orders.Values.Where(o => o.PlacedAt is { } at && InRange(at)).ToList();
        var counted = placed.Where(o => o.Current!.Status != "cancelled").ToList();
        var totalRevenue = counted.Sum(o => o.Items.Sum(i => i.Quantity * i.UnitPrice));
        var galleryRevenue = Round(totalRevenue * _rate);

        var overview = new JsonObject
        {
            ["totalOrders"] = N(counted.Count),
            ["totalRevenue"] = N(totalRevenue),
            ["galleryRevenue"] = N(galleryRevenue),
            ["artistPayouts"] = N(totalRevenue - galleryRevenue),
            ["averageOrderValue"] = N(counted.Count == 0 ? 0m : Round(totalRevenue / counted.Count)),
            ["totalItemsSold"] = N(counted.Sum(o => o.Items.Sum(i => (long)i.Quantity))),
        };

        var ordersByStatus = new JsonObject();
        foreach (var status in Statuses)
        {
            ordersByStatus[status] = N(placed.Count(o => o.Current!.Status == status));
        }

        var topArtists = new JsonArray();
        var artists = counted
            .SelectMany(o => o.Items.Select(i => (Order: o, Item: i)))
            .GroupBy(x => x.Item.OrgId, StringComparer.Ordinal)
            .Select(g => (
                OrgId: g.Key,
                Orders: g.Select(x => x.Order).Distinct().Count(),
                Revenue: g.Sum(x => x.Item.Quantity * x.Item.UnitPrice),
                Items: g.Sum(x => (long)x.Item.Quantity)))
            .OrderByDescending(a => a.Revenue)
            .ThenBy(a => a.OrgId, StringComparer.Ordinal)
            .Take(10);
        foreach (var artist in artists)
        {
            topArtists.Add(new JsonObject
            {
                ["orgId"] = artist.OrgId,
                ["artistName"] = _artists.TryGetValue(artist.OrgId, out var name) ? name.Name : artist.OrgId,
                ["totalOrders"] = N(artist.Orders),
                ["totalRevenue"] = N(artist.Revenue),
                ["artistPayout"] = N(artist.Revenue - Round(artist.Revenue * _rate)),
                ["itemsSold"] = N(artist.Items),
            });
        }

        var created = _carts.Values.Where(c => c.CreatedAt is { } at && InRange(at)).ToList();
        var active = created.Where(c => c.Active).ToList();
        var cartMetrics = new JsonObject
        {
            ["activeCarts"] = N(active.Count),
            ["averageCartValue"] = N(active.Count == 0 ? 0m : Round(active.Sum(c => c.Value) / active.Count)),
            ["abandonmentRate"] = N(active.Count == 0 ? 0m : Round((decimal)(active.Count - active.Count(c => c.CheckedOut)) / active.Count * 100m)),
            ["averageItemsPerCart"] = N(active.Count == 0 ? 0m : Round((decimal)active.Sum(c => c.Items) / active.Count)),
        };

        var clicks = _clicks.Values.Where(c => InRange(c.At)).ToList();
        var conversions = clicks.Count(c => _attributed.ContainsKey(c));
        var referralMetrics = new JsonObject
        {
            ["totalReferrals"] = N(clicks.Count),
            ["conversions"] = N(conversions),
            ["conversionRate"] = N(clicks.Count == 0 ? 0m : Round((decimal)conversions / clicks.Count * 100m)),
            ["attributedRevenue"] = N(clicks.Sum(c => _attributed.TryGetValue(c, out var orders) ? orders.Sum(o => o.Amount) : 0m)),
        };

        var timelineDays = new JsonArray();
        for (var day = start; day <= end; day = day.AddDays(1))
        {
            var ofDay = counted.Where(o => DayOf(o.PlacedAt!.Value) == day).ToList();
            timelineDays.Add(new JsonObject
            {
                ["date"] = Day(day),
                ["orders"] = N(ofDay.Count),
                ["revenue"] = N(ofDay.Sum(o => o.Items.Sum(i => i.Quantity * i.UnitPrice))),
                ["newCarts"] = N(created.Count(c => DayOf(c.CreatedAt!.Value) == day)),
            });
        }

        var (first, last) = Bounds(start, end, zone);
        var figures = new JsonObject
        {
            ["overview"] = overview,
            ["ordersByStatus"] = ordersByStatus,
            ["topArtists"] = topArtists,
            ["cartMetrics"] = cartMetrics,
            ["referralMetrics"] = referralMetrics,
        };
        if (timeline)
        {
            figures["timeline"] = timelineDays;
        }

        figures["dateRange"] = new JsonObject { ["start"] = first, ["end"] = last };
        return figures;
    }

    /// <summary>
    /// The CSV report the endpoint writes for an expected response (<see cref="Expected"/>): the report's sections, money
    /// with exactly 2 decimals (invariant culture), fields quoted by RFC 4180 when they hold a comma, quote or line break,
    /// lines joined by "\n". Outside UTC each "Date Range" line names the zone; with the previous period, a "Previous
    /// Period" section (its date range, overview and top artists) follows the timeline.
    /// </summary>
    public static string Csv(JsonObject expected, string zone = "UTC")
    {
        var analytics = expected["analytics"]!.AsObject();
        var lines = new List<string> { "Gallery Analytics Report" };
        Section(analytics, "");
        lines.Add("");
        lines.Add("Timeline");
        lines.Add("Date,Orders,Revenue,New Carts");
        lines.AddRange(analytics["timeline"]!.AsArray().Select(d =>
            $"{(string)d!["date"]!},{Count(d["orders"])},{Money(d["revenue"])},{Count(d["newCarts"])}"));
        if (analytics["previousPeriod"] is JsonObject previous)
        {
            lines.Add("");
            lines.Add("Previous Period");
            Section(previous, "Previous Period ");
        }

        return string.Join("\n", lines);

        void Section(JsonObject figures, string heading)
        {
            var overview = figures["overview"]!.AsObject();
            var start = ((string)figures["dateRange"]!["start"]!)[..10];
            var end = ((string)figures["dateRange"]!["end"]!)[..10];
            lines.Add($"Date Range: {start} to {end}" + (zone == "UTC" ? "" : $" ({zone})"));
            lines.Add("");
            lines.Add(heading + "Overview");
            lines.Add("Total Orders," + Count(overview["totalOrders"]));
            lines.Add("Total Revenue," + Money(overview["totalRevenue"]));
            lines.Add("Gallery Revenue," + Money(overview["galleryRevenue"]));
            lines.Add("Artist Payouts," + Money(overview["artistPayouts"]));
            lines.Add("Average Order Value," + Money(overview["averageOrderValue"]));
            lines.Add("Total Items Sold," + Count(overview["totalItemsSold"]));
            lines.Add("");
            lines.Add(heading + "Top Artists");
            lines.Add("Artist,Orders,Revenue,Payout,Items Sold");
            lines.AddRange(figures["topArtists"]!.AsArray().Select(a =>
                $"{Field((string)a!["artistName"]!)},{Count(a["totalOrders"])},{Money(a["totalRevenue"])},{Money(a["artistPayout"])},{Count(a["itemsSold"])}"));
        }
    }

    /// <summary>An RFC 4180 field: quoted, with quotes doubled, when it holds a comma, a quote or a line break.</summary>
    public static string Field(string text) =>
        text.AsSpan().IndexOfAny(",\"\r\n") >= 0 ? "\"" + text.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"" : text;

    private static string Money(JsonNode? node) => Dec(node).ToString("0.00", CultureInfo.InvariantCulture);

    private static string Count(JsonNode? node) => Dec(node).ToString("0", CultureInfo.InvariantCulture);

    /// <summary>A JSON number by its text, whatever CLR type the node was built from.</summary>
    private static decimal Dec(JsonNode? node) => decimal.Parse(node!.ToJsonString(), NumberStyles.Float, CultureInfo.InvariantCulture);

    private static int Int(JsonNode? node) => int.Parse(node!.ToJsonString(), NumberStyles.Integer, CultureInfo.InvariantCulture);

    private static string Day(DateOnly day) => day.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);

    /// <summary>Every number of the expected response is a decimal JSON value, so it reads back as one.</summary>
    private static JsonValue N(decimal value) => JsonValue.Create(value);

    /// <summary>A short summary of the replayed state, for a failing assertion's message or a sanity check of a generator.</summary>
    public string Describe()
    {
        var text = new StringBuilder();
        text.Append(CultureInfo.InvariantCulture, $"orders {_orders.Count} (placed {_orders.Values.Count(o => o.PlacedAt is not null)}, ");
        text.Append(CultureInfo.InvariantCulture, $"cancelled {_orders.Values.Count(o => o.PlacedAt is not null && o.Current!.Status == "cancelled")}), ");
        text.Append(CultureInfo.InvariantCulture, $"carts {_carts.Count} (active {_carts.Values.Count(c => c.Active)}, checked out {_carts.Values.Count(c => c.CheckedOut)}), ");
        text.Append(CultureInfo.InvariantCulture, $"clicks {_clicks.Count}, store orders {_storeOrders.Count} (attributed {_attributed.Values.Sum(o => o.Count)}), ");
        text.Append(CultureInfo.InvariantCulture, $"named artists {_artists.Count}");
        return text.ToString();
    }

    /// <summary>How many store orders found a click, and how many did not: the generator must produce both.</summary>
    public (int Attributed, int NotAttributed) Attribution
    {
        get
        {
            var attributed = _attributed.Values.Sum(o => o.Count);
            return (attributed, _storeOrders.Count - attributed);
        }
    }
}
