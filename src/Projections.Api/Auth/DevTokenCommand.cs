using Projections.Hosting;
using JasperFx.CommandLine;

namespace Projections.Auth;

public sealed class DevTokenInput : NetCoreInput
{
    [Description("Role claim: admin, staff, customer or service")]
    public string RoleFlag { get; set; } = "admin";

    [Description("Comma-separated permissions, e.g. view_customers,manage_inventory")]
    public string PermissionsFlag { get; set; } = "";

    [Description("Subject (sub) of the token")]
    public string SubjectFlag { get; set; } = "dev-user";

    [Description("Lifetime in hours")]
    public int HoursFlag { get; set; } = 12;
}

/// <summary><c>dotnet run --project src/Projections.Api -- dev-token --role staff --permissions view_customers</c></summary>
[Description("Print a signed token for any role and permissions (uses Auth:SigningKey; Development has one)", Name = "dev-token")]
public sealed class DevTokenCommand : JasperFxAsyncCommand<DevTokenInput>
{
    public override Task<bool> Execute(DevTokenInput input)
    {
        using var host = input.BuildHost();
        var options = SettingsSetup.Read<AuthSettings>(host.Services.GetRequiredService<IConfiguration>());
        var permissions = input.PermissionsFlag.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        Console.WriteLine(DevTokens.Mint(options, input.RoleFlag, permissions, input.SubjectFlag, TimeSpan.FromHours(input.HoursFlag)));
        return Task.FromResult(true);
    }
}
