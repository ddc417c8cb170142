namespace MdvGateway.Gateway.Admin;

/// <summary>The <c>Admin</c> section: the separate listener for operators (health, and later the admin API).</summary>
public sealed class AdminOptions
{
    public const string SectionName = "Admin";

    /// <summary>
    /// URLs of the admin listener, separated by <c>;</c>. Default <c>http://127.0.0.1:8081</c>. Empty turns the
    /// admin listener off. Never expose it on a public interface.
    /// </summary>
    public string Urls { get; set; } = "http://127.0.0.1:8081";
}
