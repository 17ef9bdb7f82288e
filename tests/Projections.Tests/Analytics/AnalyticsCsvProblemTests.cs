using Alba;
using Projections.Tests.Infrastructure;

namespace Projections.Tests.Analytics;

/// <summary>A problem answer on the CSV route is a problem, not a download.</summary>
public sealed class AnalyticsCsvProblemTests(AppFixture app) : AppTest(app)
{
    [Fact]
    public async Task A_bad_min_sequence_on_the_csv_export_is_a_400_problem_without_a_download_header()
    {
        var result = await App.Host.Scenario(s =>
        {
            s.Get.Url("/api/admin/analytics?start_date=2024-01-01&end_date=2024-01-31&format=csv&min_sequence=soon");
            s.WithBearerToken(TestTokens.Admin);
            s.StatusCodeShouldBe(400);
            s.ContentTypeShouldBe("application/problem+json");
        });
        Assert.False(result.Context.Response.Headers.ContainsKey("Content-Disposition"));
    }
}
