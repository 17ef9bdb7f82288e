using Projections.Tests.Infrastructure;

namespace Projections.Tests.Hosting;

/// <summary>Only the health probe, the OpenAPI document and the console's page (which holds no data) answer without a token.</summary>
public sealed class AnonymousEndpointsTests(AppFixture app) : AppTest(app)
{
    [Theory]
    [InlineData("/health/live")]
    [InlineData("/openapi/v1.json")]
    [InlineData("/console/")]
    public async Task Answers_without_a_token(string url) =>
        await App.Host.Scenario(s =>
        {
            s.Get.Url(url);
            s.StatusCodeShouldBe(200);
        });
}
