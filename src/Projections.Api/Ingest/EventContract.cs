// Ingest/: the v1 wire contract (EventContract, Limits), validation (EnvelopeBatch, DataReader), POST /api/events and the
// limit of batches it works on at once (IngestConcurrency), the queue's PublishEvents, and the idempotent append
// (EventIngestor). Uses the domain folders' event records, Hosting, Auth and ReadModels' MartenTables.
using System.Collections.Frozen;
using Projections.Artists;
using Projections.Carts;
using Projections.Inventory;
using Projections.Orders;
using Projections.Referrals;
using Projections.Users;

namespace Projections.Ingest;

/// <summary>One v1 event type: its wire name, internal record, how to read its data, and the stream it belongs to.</summary>
public sealed record EventType(string Name, Type ClrType, Func<DataReader, DateTimeOffset, object> Read, Func<object, string> StreamKey);

/// <summary>
/// The upstream event contract v1 (shared/contract/events-v1.md) in one place: the wire names, the rules for each
/// type's data, and which entity stream an event belongs to. Upstream sees only this; the internal records may change.
/// Wire names are also the names events are stored under in the event store.
/// </summary>
public static class EventContract
{
    public static readonly FrozenDictionary<string, UserRole> Roles = new Dictionary<string, UserRole>
    {
        ["customer"] = UserRole.Customer,
        ["staff"] = UserRole.Staff,
        ["admin"] = UserRole.Admin,
    }.ToFrozenDictionary();

    public static readonly FrozenDictionary<string, OrderStatus> Statuses = new Dictionary<string, OrderStatus>
    {
        ["pending"] = OrderStatus.Pending,
        ["paid"] = OrderStatus.Paid,
        ["processing"] = OrderStatus.Processing,
        ["partially_shipped"] = OrderStatus.PartiallyShipped,
        ["shipped"] = OrderStatus.Shipped,
        ["delivered"] = OrderStatus.Delivered,
        ["cancelled"] = OrderStatus.Cancelled,
    }.ToFrozenDictionary();

    public static readonly FrozenDictionary<OrderStatus, string> StatusNames = Statuses.ToFrozenDictionary(s => s.Value, s => s.Key);

    public const int MaxOrderItems = 200;

    // Stream keys: one stream per entity. Artist-store orders are keyed by store and order id, since two stores may
    // number their orders alike.
    public static string UserStream(string userId) => "user:" + userId;
    public static string ProductStream(string productId) => "product:" + productId;
    public static string ArtistStream(string orgId) => "artist:" + orgId;
    public static string OrderStream(string orderId) => "order:" + orderId;
    public static string CartStream(string cartId) => "cart:" + cartId;
    public static string ReferralStream(string referralId) => "referral:" + referralId;
    public static string StoreOrderStream(string orgId, string orderId) => $"store-order:{orgId}:{orderId}";

    public static readonly IReadOnlyList<EventType> Types =
    [
        User("user.registered", (r, at) => new UserRegistered(r.Id("userId"), r.OneOf("role", Roles), r.Bool("active", true),
            r.Bool("emailVerified", false), r.Bool("phoneVerified", false), at)),
        User("user.role_changed", (r, at) => new UserRoleChanged(r.Id("userId"), r.OneOf("role", Roles), at)),
        User("user.activated", (r, at) => new UserActivated(r.Id("userId"), at)),
        User("user.deactivated", (r, at) => new UserDeactivated(r.Id("userId"), at)),
        User("user.email_verified", (r, at) => new UserEmailVerified(r.Id("userId"), at)),
        User("user.phone_verified", (r, at) => new UserPhoneVerified(r.Id("userId"), at)),
        User("user.email_changed", (r, at) => new UserEmailChanged(r.Id("userId"), at)),
        User("user.phone_changed", (r, at) => new UserPhoneChanged(r.Id("userId"), at)),
        User("user.deleted", (r, at) => new UserDeleted(r.Id("userId"), at)),

        Product("product.created", (r, at) => new ProductCreated(r.Id("productId"), r.Id("orgId"), r.Text("name"), r.Bool("active", true),
            r.OptionalMoney("price"), r.Currency(), at)),
        Product("product.price_set", (r, at) => new ProductPriceSet(r.Id("productId"), r.Money("price"), r.Currency(), at)),
        Product("product.price_removed", (r, at) => new ProductPriceRemoved(r.Id("productId"), at)),
        Product("product.activated", (r, at) => new ProductActivated(r.Id("productId"), at)),
        Product("product.deactivated", (r, at) => new ProductDeactivated(r.Id("productId"), at)),
        Product("product.deleted", (r, at) => new ProductDeleted(r.Id("productId"), at)),
        Product("inventory.stock_set", (r, at) => new StockSet(r.Id("productId"), r.Integer("quantity", 0, Limits.MaxStockFigure), at)),
        Product("inventory.stock_adjusted", (r, at) => new StockAdjusted(r.Id("productId"), r.Integer("delta", -Limits.MaxStockFigure, Limits.MaxStockFigure, nonZero: true), at)),
        Product("inventory.reserved", (r, at) => new StockReserved(r.Id("productId"), r.Integer("quantity", 1, Limits.MaxItemQuantity), at)),
        Product("inventory.reservation_released", (r, at) => new ReservationReleased(r.Id("productId"), r.Integer("quantity", 1, Limits.MaxItemQuantity), at)),
        Product("inventory.reservation_fulfilled", (r, at) => new ReservationFulfilled(r.Id("productId"), r.Integer("quantity", 1, Limits.MaxItemQuantity), at)),
        Product("inventory.low_stock_threshold_set", (r, at) => new LowStockThresholdSet(r.Id("productId"), r.Integer("threshold", 0, Limits.MaxStockFigure), at)),

        Of<ArtistProfileUpdated>("artist.profile_updated", (r, at) => new ArtistProfileUpdated(r.Id("orgId"), r.Text("name"), at),
            e => ArtistStream(e.OrgId)),

        Of<OrderPlaced>("order.placed", (r, at) => new OrderPlaced(r.Id("orderId"),
                r.Array("items", 1, MaxOrderItems, i => new OrderItem(i.Id("productId"), i.Id("orgId"), i.Integer("quantity", 1, Limits.MaxItemQuantity), i.Money("unitPrice"))),
                r.OptionalId("customerId"), r.OptionalId("cartId"), r.Currency(), at),
            e => OrderStream(e.OrderId)),
        Of<OrderStatusChanged>("order.status_changed", (r, at) => new OrderStatusChanged(r.Id("orderId"), r.OneOf("status", Statuses), at),
            e => OrderStream(e.OrderId)),

        Of<CartCreated>("cart.created", (r, at) => new CartCreated(r.Id("cartId"), r.OptionalId("customerId"), at), e => CartStream(e.CartId)),
        Of<CartItemAdded>("cart.item_added", (r, at) => new CartItemAdded(r.Id("cartId"), r.Id("productId"), r.Integer("quantity", 1, Limits.MaxItemQuantity),
            r.Money("unitPrice"), at), e => CartStream(e.CartId)),
        Of<CartItemRemoved>("cart.item_removed", (r, at) => new CartItemRemoved(r.Id("cartId"), r.Id("productId"), r.Integer("quantity", 1, Limits.MaxItemQuantity), at),
            e => CartStream(e.CartId)),
        Of<CartCheckedOut>("cart.checked_out", (r, at) => new CartCheckedOut(r.Id("cartId"), r.Id("orderId"), at), e => CartStream(e.CartId)),

        Of<ReferralClicked>("referral.clicked", (r, at) => new ReferralClicked(r.Id("referralId"), r.Id("visitorId"), r.Id("orgId"), at),
            e => ReferralStream(e.ReferralId)),
        Of<ArtistStoreOrderCompleted>("artist_store.order_completed", (r, at) => new ArtistStoreOrderCompleted(r.Id("orderId"), r.Id("visitorId"),
            r.Id("orgId"), r.Money("amount"), r.Currency(), at), e => StoreOrderStream(e.OrgId, e.OrderId)),
    ];

    public static readonly FrozenDictionary<string, EventType> ByName = Types.ToFrozenDictionary(t => t.Name, StringComparer.Ordinal);

    private static EventType Of<T>(string name, Func<DataReader, DateTimeOffset, T> read, Func<T, string> streamKey) where T : class =>
        new(name, typeof(T), (r, at) => read(r, at), e => streamKey((T)e));

    private static EventType User<T>(string name, Func<DataReader, DateTimeOffset, T> read) where T : class, IUserEvent =>
        Of(name, read, e => UserStream(e.UserId));

    private static EventType Product<T>(string name, Func<DataReader, DateTimeOffset, T> read) where T : class, IProductEvent =>
        Of(name, read, e => ProductStream(e.ProductId));
}
