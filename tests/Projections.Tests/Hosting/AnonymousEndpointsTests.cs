using Projections.Tests.Infrastructure;

namespace Projections.Tests.Hosting;

/// <summary>Only the health probe and the OpenAPI document answer without a token.</summary>
public sealed class AnonymousEndpointsTests(AppFixture app) : AppTest(app)
{
    [Theory]
    [InlineData("/health/live")]
    [InlineData("/openapi/v1.json")]
    public async Task Answers_without_a_token(string url) =>
        await App.Host.Scenario(s =>
        {
            s.Get.Url(url);
            s.StatusCodeShouldBe(200);
        });
}
