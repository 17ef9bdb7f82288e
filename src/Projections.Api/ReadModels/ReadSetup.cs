using Projections.Hosting;

namespace Projections.ReadModels;

/// <summary>The <c>Reads</c> configuration section: live updates of the read routes (<c>shared/contract/reads.md</c>).</summary>
public sealed class ReadSettings : ISettings
{
    public static string Section => "Reads";

    /// <summary>A live stream sends at most one update per this interval.</summary>
    public TimeSpan StreamInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>Open live streams one node holds at most; one more answers 503 with Retry-After.</summary>
    public int MaxStreams { get; set; } = 1000;

    /// <summary>A stream on which nothing was sent for this long gets a comment line, so proxies keep it open.</summary>
    public TimeSpan KeepAliveInterval { get; set; } = TimeSpan.FromSeconds(15);

    public IEnumerable<string> Problems(IHostEnvironment environment)
    {
        if (StreamInterval <= TimeSpan.Zero || KeepAliveInterval <= TimeSpan.Zero)
        {
            yield return "Reads:StreamInterval and Reads:KeepAliveInterval must be longer than zero.";
        }

        if (MaxStreams < 0)
        {
            yield return "Reads:MaxStreams must not be negative (0 turns live streams off).";
        }
    }
}

/// <summary>The <c>Cors</c> configuration section: the browser origins that may call the read routes.</summary>
public sealed class CorsSettings : ISettings
{
    public static string Section => "Cors";

    /// <summary>Origins (scheme, host and port, e.g. <c>https://dashboard.example.com</c>) whose scripts may read; none by
    /// default.</summary>
    public string[] AllowedOrigins { get; set; } = [];

    public IEnumerable<string> Problems(IHostEnvironment environment)
    {
        foreach (var origin in AllowedOrigins)
        {
            if (origin == "*")
            {
                yield return "Cors:AllowedOrigins lists '*': name each origin whose scripts may read the figures.";
            }
            else if (!Uri.TryCreate(origin, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https")
                     || uri.GetLeftPart(UriPartial.Authority) != origin.TrimEnd('/'))
            {
                yield return $"Cors:AllowedOrigins: '{origin}' is not an origin (scheme://host[:port], nothing after it).";
            }
        }
    }
}

/// <summary>What every read route offers besides its answer: live streams and CORS.</summary>
public static class ReadSetup
{
    /// <summary>The CORS policy the read routes carry (<c>RequireCors</c>).</summary>
    public const string CorsPolicy = "reads";

    public static WebApplicationBuilder AddProjectionsReads(this WebApplicationBuilder builder)
    {
        builder.AddSettings<ReadSettings>();
        var cors = builder.AddSettings<CorsSettings>();
        builder.Services.AddSingleton<ReadStreams>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<ReadStreams>());
        builder.Services.AddCors(options => options.AddPolicy(CorsPolicy, policy => policy
            .WithOrigins([.. cors.AllowedOrigins.Select(o => o.TrimEnd('/'))])
            .WithMethods(HttpMethods.Get)
            // Authorization for the token, Last-Event-ID for a stream's reconnect, the validators for conditional reads.
            .WithHeaders("Authorization", "Accept", "Last-Event-ID", "If-None-Match", "If-Modified-Since")
            .WithExposedHeaders(ReadModelEndpoint.SequenceHeader, "ETag", "Last-Modified", "Retry-After")
            .SetPreflightMaxAge(TimeSpan.FromHours(1))));
        return builder;
    }
}
