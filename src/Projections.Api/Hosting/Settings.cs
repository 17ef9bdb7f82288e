// Hosting/: the wiring every folder may use and that uses none of them: settings (one way to bind and validate them),
// problem details, resilience against an unreachable database, telemetry.
using Microsoft.Extensions.Options;

namespace Projections.Hosting;

/// <summary>A configuration section bound to a settings class (<c>Auth</c> to <c>AuthSettings</c>, ...).</summary>
public interface ISettings
{
    /// <summary>The section's name in configuration.</summary>
    static abstract string Section { get; }

    /// <summary>What is wrong with these values, in the environment the service runs in; nothing when they are fine.</summary>
    IEnumerable<string> Problems(IHostEnvironment environment);
}

/// <summary>
/// The one way settings are bound: <see cref="AddSettings{T}"/> registers the section as options validated at startup
/// (<c>ValidateOnStart</c>), and returns the bound values, checked the same way, for the setup code that needs them
/// before the service starts (Marten's and Wolverine's configuration, the token validation).
/// </summary>
public static class SettingsSetup
{
    /// <summary>Registers the settings (once, however often several setups ask) and returns their values.</summary>
    public static T AddSettings<T>(this WebApplicationBuilder builder) where T : class, ISettings, new()
    {
        if (!builder.Services.Any(s => s.ServiceType == typeof(IValidateOptions<T>) && s.ImplementationInstance is Validator<T>))
        {
            builder.Services.AddOptions<T>().BindConfiguration(T.Section).ValidateOnStart();
            builder.Services.AddSingleton<IValidateOptions<T>>(new Validator<T>(builder.Environment));
        }

        var settings = builder.Configuration.GetSection(T.Section).Get<T>() ?? new T();
        if (settings.Problems(builder.Environment).ToList() is { Count: > 0 } problems)
        {
            throw new InvalidOperationException(string.Join(" ", problems));
        }

        return settings;
    }

    /// <summary>The settings as configured, for a command that runs without the web host (a tool, not the service).</summary>
    public static T Read<T>(IConfiguration configuration) where T : class, ISettings, new() =>
        configuration.GetSection(T.Section).Get<T>() ?? new T();

    private sealed class Validator<T>(IHostEnvironment environment) : IValidateOptions<T> where T : class, ISettings
    {
        public ValidateOptionsResult Validate(string? name, T options) =>
            options.Problems(environment).ToList() is { Count: > 0 } problems ? ValidateOptionsResult.Fail(problems) : ValidateOptionsResult.Success;
    }
}
