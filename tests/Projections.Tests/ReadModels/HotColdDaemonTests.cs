using JasperFx.Events.Daemon;
using Marten;
using Marten.Events;
using Microsoft.Extensions.DependencyInjection;
using Projections.Tests.Infrastructure;

namespace Projections.Tests.ReadModels;

/// <summary>The suite's host runs the async daemon as production does: HotCold, with this node holding the lead.</summary>
public sealed class HotColdDaemonTests(AppFixture app) : AppTest(app)
{
    [Fact]
    public async Task The_daemon_runs_in_hot_cold_mode_and_projects_every_shard()
    {
        var coordinator = App.Host.Services.GetRequiredService<Marten.Events.Daemon.Coordination.IProjectionCoordinator>();
        Assert.Equal(DaemonMode.HotCold, ((StoreOptions)App.Store.Options).Projections.AsyncMode);

        var receipt = await App.PublishAsync([
            Envelopes.Of("user.registered", new() { ["userId"] = "u-1", ["role"] = "admin" }),
            Envelopes.Of("product.created", new() { ["productId"] = "p-1", ["orgId"] = "o-1", ["name"] = "Vase" }),
        ]);
        await App.Host.WaitForNonStaleProjectionDataAsync(TimeSpan.FromSeconds(30));

        var shards = await App.Store.Advanced.AllProjectionProgress();
        Assert.Contains(shards, s => s.ShardName == "UserMetrics:All" && s.Sequence >= receipt.LastSequence);
        Assert.Contains(shards, s => s.ShardName == "InventoryMetrics:All" && s.Sequence >= receipt.LastSequence);
        Assert.NotNull(coordinator.DaemonForMainDatabase());
    }
}
