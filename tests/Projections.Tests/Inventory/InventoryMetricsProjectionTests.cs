using Projections.Inventory;

namespace Projections.Tests.Inventory;

/// <summary>The inventory projection's rules, event in, document out (no host, no database).</summary>
public sealed class InventoryMetricsProjectionTests
{
    private const int DefaultThreshold = 5;
    private static readonly DateTimeOffset At = new(2024, 5, 1, 0, 0, 0, TimeSpan.Zero);

    private static (ProductState State, InventoryMetrics Totals) Replay(params object[] events)
    {
        var state = new ProductState { Id = "p-1" };
        var totals = new InventoryMetrics();
        foreach (var e in events)
        {
            totals.Count(state, -1, DefaultThreshold);
            state.Apply(e);
            totals.Count(state, +1, DefaultThreshold);
        }

        return (state, totals);
    }

    private static ProductCreated Created(bool active = true, decimal? price = 10m, string currency = "USD") =>
        new("p-1", "org-1", "Vase", active, price, currency, At);

    [Fact]
    public void Stock_reserved_and_available_sum_with_revenue_at_the_price()
    {
        var (_, totals) = Replay(Created(price: 12.50m), new StockSet("p-1", 20, At), new StockReserved("p-1", 4, At));
        var view = totals.ActiveProducts;
        Assert.Equal((1, 1, 1), (view.TotalProducts, view.ProductsWithInventory, view.ProductsWithPricing));
        Assert.Equal((20, 4, 16), (view.StockQuantity, view.ReservedQuantity, view.AvailableQuantity));
        Assert.Equal((250.00m, 50.00m, 200.00m), (view.TotalRevenue, view.ReservedRevenue, view.AvailableRevenue));
        Assert.Equal(250.00m, view.RevenueByCurrency["USD"].Total);
    }

    [Theory]
    [InlineData(6, 1, 0, 0)]
    [InlineData(5, 1, 1, 0)] // at the threshold: low (a subset of in stock)
    [InlineData(1, 1, 1, 0)]
    [InlineData(0, 0, 0, 1)]
    public void Stock_status_follows_available_quantity(int stock, int inStock, int low, int outOfStock)
    {
        var (_, totals) = Replay(Created(), new StockSet("p-1", stock, At));
        Assert.Equal((inStock, low, outOfStock), (totals.ActiveProducts.InStock, totals.ActiveProducts.LowStock, totals.ActiveProducts.OutOfStock));
    }

    [Fact]
    public void A_product_threshold_replaces_the_default()
    {
        var (_, totals) = Replay(Created(), new StockSet("p-1", 8, At), new LowStockThresholdSet("p-1", 10, At));
        Assert.Equal(1, totals.ActiveProducts.LowStock);
    }

    [Fact]
    public void Fulfilment_takes_units_out_of_stock_and_reservation()
    {
        var (state, _) = Replay(Created(), new StockSet("p-1", 10, At), new StockReserved("p-1", 6, At),
            new ReservationReleased("p-1", 1, At), new ReservationFulfilled("p-1", 3, At));
        Assert.Equal((7, 2), (state.Stock, state.Reserved));
    }

    [Fact]
    public void Releasing_more_than_is_reserved_ends_the_reservation()
    {
        var (state, _) = Replay(Created(), new StockReserved("p-1", 2, At), new ReservationReleased("p-1", 5, At));
        Assert.Equal(0, state.Reserved);
    }

    [Fact]
    public void Any_inventory_event_gives_an_inventory_record()
    {
        var (_, totals) = Replay(Created(), new LowStockThresholdSet("p-1", 3, At));
        Assert.Equal((1, 1), (totals.ActiveProducts.ProductsWithInventory, totals.ActiveProducts.OutOfStock));
    }

    [Fact]
    public void An_inactive_product_counts_only_in_the_all_products_view()
    {
        var (_, totals) = Replay(Created(active: false), new StockSet("p-1", 3, At));
        Assert.Equal((0, 1), (totals.ActiveProducts.TotalProducts, totals.AllProducts.TotalProducts));
        Assert.Equal(30m, totals.AllProducts.TotalRevenue);
    }

    [Fact]
    public void A_removed_price_takes_the_product_out_of_pricing_and_revenue()
    {
        var (_, totals) = Replay(Created(price: 9m, currency: "EUR"), new StockSet("p-1", 3, At), new ProductPriceRemoved("p-1", At));
        Assert.Equal((0, 0m), (totals.ActiveProducts.ProductsWithPricing, totals.ActiveProducts.TotalRevenue));
        Assert.Empty(totals.ActiveProducts.RevenueByCurrency);
    }

    [Fact]
    public void A_new_price_in_another_currency_moves_the_revenue()
    {
        var (_, totals) = Replay(Created(price: 2m), new StockSet("p-1", 5, At), new ProductPriceSet("p-1", 3m, "EUR", At));
        Assert.Equal(["EUR"], totals.ActiveProducts.RevenueByCurrency.Keys);
        Assert.Equal(15m, totals.ActiveProducts.RevenueByCurrency["EUR"].Total);
    }

    [Fact]
    public void A_deleted_product_counts_nowhere()
    {
        var (_, totals) = Replay(Created(), new StockSet("p-1", 3, At), new ProductDeleted("p-1", At));
        Assert.Equal((0, 0, 0L), (totals.AllProducts.TotalProducts, totals.AllProducts.ProductsWithInventory, totals.AllProducts.StockQuantity));
    }

    [Fact]
    public void Inventory_recorded_before_the_product_is_created_counts_once_it_is()
    {
        var (_, before) = Replay(new StockSet("p-1", 4, At));
        Assert.Equal(0, before.AllProducts.TotalProducts);
        var (_, after) = Replay(new StockSet("p-1", 4, At), Created());
        Assert.Equal((1, 4L), (after.ActiveProducts.TotalProducts, after.ActiveProducts.StockQuantity));
    }
}
