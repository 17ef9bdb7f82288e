using System.Text.Json;

namespace Projections.Users;

/// <summary>The Metrics API's user-count fields (snake_case names from the seed), written straight from the read model.</summary>
public static class UserCountsJson
{
    /// <summary>The five customer fields of <c>/metrics/staff-dashboard</c>.</summary>
    public static void WriteCustomers(Utf8JsonWriter json, UserMetrics metrics)
    {
        var c = metrics.Customers;
        json.WriteNumber("total_customers", c.Total);
        json.WriteNumber("active_customers", c.Active);
        json.WriteNumber("inactive_customers", c.Inactive);
        json.WriteNumber("customers_email_verified", c.EmailVerified);
        json.WriteNumber("customers_phone_verified", c.PhoneVerified);
    }

    /// <summary>The fifteen user fields of <c>/metrics/admin-dashboard</c>, in the seed's order.</summary>
    public static void WriteAll(Utf8JsonWriter json, UserMetrics metrics)
    {
        var (c, s, a) = (metrics.Customers, metrics.Staff, metrics.Admins);
        json.WriteNumber("total_customers", c.Total);
        json.WriteNumber("total_staff", s.Total);
        json.WriteNumber("total_admins", a.Total);
        json.WriteNumber("active_customers", c.Active);
        json.WriteNumber("inactive_customers", c.Inactive);
        json.WriteNumber("active_staff", s.Active);
        json.WriteNumber("inactive_staff", s.Inactive);
        json.WriteNumber("active_admins", a.Active);
        json.WriteNumber("inactive_admins", a.Inactive);
        json.WriteNumber("customers_email_verified", c.EmailVerified);
        json.WriteNumber("customers_phone_verified", c.PhoneVerified);
        json.WriteNumber("staff_email_verified", s.EmailVerified);
        json.WriteNumber("staff_phone_verified", s.PhoneVerified);
        json.WriteNumber("admins_email_verified", a.EmailVerified);
        json.WriteNumber("admins_phone_verified", a.PhoneVerified);
    }
}
