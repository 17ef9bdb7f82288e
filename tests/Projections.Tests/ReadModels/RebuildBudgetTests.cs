using Projections.ReadModels;

namespace Projections.Tests.ReadModels;

/// <summary>
/// <c>Projections:RebuildMemory</c> is the node's, shared by its rebuilds: a projection with many documents may use what
/// the others leave, and only those holding at least an equal share give way when the node is over it.
/// </summary>
public sealed class RebuildBudgetTests
{
    [Fact]
    public void A_projection_may_use_what_the_others_leave_and_only_the_largest_give_way_when_the_node_is_over()
    {
        var budget = new RebuildBudget(100);
        budget.Hold("users", 5);
        budget.Hold("inventory", 5);

        // 80 of 100: far beyond an equal third, and nobody writes yet.
        Assert.False(budget.MustRelease("analytics", 80));
        budget.Hold("analytics", 80);
        Assert.Equal(90, budget.Total);

        // Over: the small ones keep theirs; the large one drops back to bring the node to half the limit.
        budget.Hold("analytics", 95);
        Assert.False(budget.MustRelease("users", 5));
        Assert.True(budget.MustRelease("analytics", 95));
        Assert.Equal(40, budget.KeepFor("analytics", 95));
    }

    [Fact]
    public void Equal_shares_over_the_limit_all_give_way_and_a_finished_rebuild_gives_its_share_back()
    {
        var budget = new RebuildBudget(90);
        foreach (var owner in new[] { "a", "b", "c" })
        {
            budget.Hold(owner, 31);
        }

        Assert.True(new[] { "a", "b", "c" }.All(o => budget.MustRelease(o, 31)));
        Assert.Equal(0, budget.KeepFor("a", 31));

        budget.Hold("b", 0);
        budget.Hold("c", 0);
        Assert.Equal(31, budget.Total);
        Assert.False(budget.MustRelease("a", 89));
        Assert.True(budget.MustRelease("a", 91));
        Assert.Equal(45, budget.KeepFor("a", 91));
    }

    [Fact]
    public void Without_memory_every_document_is_written_and_dropped()
    {
        var budget = new RebuildBudget(0);
        Assert.True(budget.MustRelease("a", 1));
        Assert.Equal(0, budget.KeepFor("a", 1));
        Assert.False(budget.MustRelease("a", 0));
    }
}
