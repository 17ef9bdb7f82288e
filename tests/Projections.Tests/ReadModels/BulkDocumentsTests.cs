using Projections.Analytics;
using Marten;
using Projections.Orders;
using Projections.ReadModels;
using Projections.Tests.Infrastructure;

namespace Projections.Tests.ReadModels;

/// <summary>The one-statement upsert projections write their states with: Marten reads back exactly what was written, in
/// the slot it was written to, and a second write replaces the first.</summary>
public sealed class BulkDocumentsTests(AppFixture app) : AppTest(app)
{
    private static OrderState Order(string id, OrderStatus status, int day) => new()
    {
        Id = id, Placed = true, PlacedAt = new DateTimeOffset(2024, 3, day, 10, 0, 0, TimeSpan.Zero), Status = status,
        StatusAt = new DateTimeOffset(2024, 3, day, 11, 0, 0, TimeSpan.Zero),
    };

    private async Task<IReadOnlyList<OrderState>> LoadAsync(string slot, params string[] ids)
    {
        await using var session = App.Store.QuerySession(slot);
        return [.. (await session.LoadManyAsync<OrderState>(ids)).OrderBy(o => o.Id, StringComparer.Ordinal)];
    }

    private string Json(IEnumerable<OrderState> orders) => App.Store.Options.Serializer().ToJson(orders.ToList());

    [Fact]
    public async Task Marten_loads_what_one_statement_wrote_into_one_slot_and_a_second_write_replaces_it()
    {
        OrderState[] first = [Order("o-bulk-1", OrderStatus.Pending, 1), Order("o-bulk-2", OrderStatus.Paid, 2)];
        await using (var session = App.Store.LightweightSession())
        {
            session.ForTenant(ProjectionSlots.Green).StoreAll(first, 1000);
            await session.SaveChangesAsync();
        }

        Assert.Equal(Json(first), Json(await LoadAsync(ProjectionSlots.Green, "o-bulk-1", "o-bulk-2")));
        Assert.Empty(await LoadAsync(ProjectionSlots.Blue, "o-bulk-1", "o-bulk-2"));

        OrderState[] second = [Order("o-bulk-2", OrderStatus.Cancelled, 5), Order("o-bulk-3", OrderStatus.Shipped, 6)];
        await using (var session = App.Store.LightweightSession())
        {
            session.ForTenant(ProjectionSlots.Green).StoreAll(second, 1);
            await session.SaveChangesAsync();
        }

        Assert.Equal(Json([first[0], .. second]), Json(await LoadAsync(ProjectionSlots.Green, "o-bulk-1", "o-bulk-2", "o-bulk-3")));
    }

    [Fact]
    public async Task Documents_beyond_the_rows_per_command_go_in_statements_of_their_own_and_load_back_in_queries_of_that_size()
    {
        var orders = Enumerable.Range(1, 5).Select(i => Order($"o-rows-{i}", OrderStatus.Paid, i)).ToList();
        await using (var session = App.Store.LightweightSession())
        {
            session.ForTenant(ProjectionSlots.Green).StoreAll(orders, 2);
            Assert.Equal(3, session.PendingChanges.Operations().Count());
            await session.SaveChangesAsync();
        }

        await using var query = App.Store.QuerySession(ProjectionSlots.Green);
        var loaded = await query.LoadAllAsync<OrderState>([.. orders.Select(o => o.Id), "o-rows-none"], 2, CancellationToken.None);
        Assert.Equal(Json(orders), Json(loaded.Values.OrderBy(o => o.Id, StringComparer.Ordinal)));
    }

    [Fact]
    public async Task Two_documents_with_one_id_are_refused_before_anything_is_queued()
    {
        await using var session = App.Store.LightweightSession();
        var error = Assert.Throws<ArgumentException>(() =>
            session.ForTenant(ProjectionSlots.Green).StoreAll([Order("o-dup", OrderStatus.Pending, 1), Order("o-dup", OrderStatus.Paid, 2)], 1000));

        Assert.Contains("same id", error.Message, StringComparison.Ordinal);
        Assert.Empty(session.PendingChanges.Operations());
    }
}
