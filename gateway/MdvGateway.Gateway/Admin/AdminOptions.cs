namespace MdvGateway.Gateway.Admin;

/// <summary>
/// The <c>Admin</c> section: the separate listener for operators (health, metrics, the admin API) and the API keys
/// that may use it. Keys and limits reload with <c>appsettings.json</c>; <see cref="Urls"/> needs a restart.
/// </summary>
public sealed class AdminOptions
{
    public const string SectionName = "Admin";

    /// <summary>
    /// URLs of the admin listener, separated by <c>;</c>. Default <c>http://127.0.0.1:8081</c>. Empty turns the
    /// admin listener off. Never expose it on a public interface.
    /// </summary>
    public string Urls { get; set; } = "http://127.0.0.1:8081";

    /// <summary>
    /// Keys allowed to call <c>/admin/*</c>, stored only as SHA-256 hashes (<c>MdvGateway.Gateway hash-key &lt;key&gt;</c>
    /// prints one). Default: none, so the admin API answers 401 to everyone until a key is configured. Two entries
    /// may be valid at once, which is how a key is rotated without downtime.
    /// </summary>
    public List<AdminApiKeyOptions> ApiKeys { get; set; } = [];

    /// <summary>
    /// Failed authentications (a key that matches no configured key) one client address may make per
    /// <see cref="AuthFailureWindow"/> before the admin API answers it 429 until the window ends. Default 10. Counted
    /// in Redis, so every node shares one count per address; while Redis cannot be reached, each node counts alone
    /// (see <see cref="FailedAuthenticationLimiter"/>).
    /// </summary>
    public int AuthFailureLimit { get; set; } = 10;

    /// <summary>The window <see cref="AuthFailureLimit"/> counts in. Default 00:01:00.</summary>
    public TimeSpan AuthFailureWindow { get; set; } = TimeSpan.FromMinutes(1);
}
