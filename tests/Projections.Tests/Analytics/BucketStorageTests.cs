using System.Text;
using Marten;
using Projections.Analytics;
using Projections.Tests.Infrastructure;

namespace Projections.Tests.Analytics;

/// <summary>How the day and month buckets store each artist's figures: as <c>[orders, revenue, itemsSold]</c>, and a
/// bucket written before, with the figures as objects, still loads with every figure.</summary>
public sealed class BucketStorageTests(AppFixture app) : AppTest(app)
{
    private ISerializer Serializer => App.Store.Options.Serializer();

    private AnalyticsBucket Load(string json) => Serializer.FromJson<AnalyticsBucket>(new MemoryStream(Encoding.UTF8.GetBytes(json)));

    [Fact]
    public void Artist_figures_are_stored_as_arrays_and_load_back_exactly()
    {
        var bucket = new AnalyticsBucket { Id = "day:2024-03-01" };
        bucket.Figures.Artists["org-a"] = new ArtistFigures { Orders = 2, Revenue = 1234.5678m, ItemsSold = 7 };
        bucket.Figures.Artists["org-b"] = new ArtistFigures { Orders = -1, Revenue = 0.01m, ItemsSold = 0 };

        var json = Serializer.ToJson(bucket);
        Assert.Contains("\"org-a\":[2,1234.5678,7]", json, StringComparison.Ordinal);
        Assert.Contains("\"org-b\":[-1,0.01,0]", json, StringComparison.Ordinal);

        var loaded = Load(json);
        Assert.Equal((2L, 1234.5678m, 7L), Figures(loaded, "org-a"));
        Assert.Equal((-1L, 0.01m, 0L), Figures(loaded, "org-b"));
    }

    [Fact]
    public void A_bucket_written_with_artist_figures_as_objects_still_loads_every_figure()
    {
        var loaded = Load("""
            {"id":"day:2024-03-01","figures":{"orders":3,"revenue":99.95,"artists":{
              "org-a":{"orders":2,"revenue":80.5,"itemsSold":4},"org-b":{"itemsSold":1,"revenue":19.45,"orders":1,"later":{"x":[1]}}}}}
            """);
        Assert.Equal(3, loaded.Figures.Orders);
        Assert.Equal((2L, 80.5m, 4L), Figures(loaded, "org-a"));
        Assert.Equal((1L, 19.45m, 1L), Figures(loaded, "org-b"));
    }

    [Theory]
    [InlineData("""{"id":"d","figures":{"artists":{"org-a":[1,2]}}}""")]
    [InlineData("""{"id":"d","figures":{"artists":{"org-a":[1,2,3,4]}}}""")]
    [InlineData("""{"id":"d","figures":{"artists":{"org-a":[1,"2",3]}}}""")]
    [InlineData("""{"id":"d","figures":{"artists":{"org-a":7}}}""")]
    public void Figures_of_another_shape_are_refused_rather_than_read_wrong(string json) =>
        Assert.ThrowsAny<Exception>(() => Load(json));

    private static (long, decimal, long) Figures(AnalyticsBucket bucket, string org)
    {
        var figures = bucket.Figures.Artists[org];
        return (figures.Orders, figures.Revenue, figures.ItemsSold);
    }
}
