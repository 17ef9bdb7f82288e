using System.Text.Json;
using System.Text.RegularExpressions;
using Projections.Tests.Infrastructure;

namespace Projections.Tests.Browser;

/// <summary>
/// The page the browser tests serve: the markup and the code of the README's dashboard example
/// (README.md, "For dashboard developers"), taken from that file as they are, so the example a dashboard developer copies is the
/// one that runs here.
/// </summary>
public static partial class DashboardPage
{
    public const string ExamplePath = "README.md";

    /// <summary>The page, calling the example's <c>showAnalytics</c> as the example's last snippet does.</summary>
    public static string Html(string api, string token, string query)
    {
        var example = File.ReadAllText(Path.Combine(RepositoryRoot.Path, ExamplePath));
        var blocks = CodeBlock().Matches(example).Select(m => (Language: m.Groups["language"].Value, Code: m.Groups["code"].Value)).ToList();
        var markup = blocks.FirstOrDefault(b => b.Language == "html").Code
                     ?? throw new InvalidOperationException($"{ExamplePath} has no ```html block (the dashboard's markup)");
        var code = blocks.FirstOrDefault(b => b.Language == "js" && b.Code.Contains("async function showAnalytics(", StringComparison.Ordinal)).Code
                   ?? throw new InvalidOperationException($"{ExamplePath} has no ```js block defining showAnalytics");
        string Js(string value) => JsonSerializer.Serialize(value);
        return $$"""
            <!doctype html>
            <html lang="en">
            <head><meta charset="utf-8"><title>Gallery dashboard</title><link rel="icon" href="data:,"></head>
            <body>
            {{markup}}
            <script>
            {{code}}
            showAnalytics({{Js(api)}}, async () => {{Js(token)}}, {{Js(query)}})
              .catch((e) => (document.getElementById("status").textContent = `cannot read: ${e.message}`));
            </script>
            </body>
            </html>
            """;
    }

    [GeneratedRegex(@"^```(?<language>\w+)\n(?<code>.*?)^```", RegexOptions.Multiline | RegexOptions.Singleline)]
    private static partial Regex CodeBlock();
}
