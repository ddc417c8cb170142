using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using MdvGateway.Gateway.Admin;
using MdvGateway.Gateway.FunctionalTests.Infrastructure;

namespace MdvGateway.Gateway.FunctionalTests.Admin;

/// <summary>Admin keys for tests (fresh random keys per run, configured by hash only) and a client for the admin listener.</summary>
public static class AdminKeys
{
    public static readonly string Reader = NewKey();
    public static readonly string Writer = NewKey();
    public static readonly string ConfigReader = NewKey();
    public static readonly string All = NewKey();

    /// <summary>A key of the right shape that is configured nowhere.</summary>
    public static readonly string Unknown = NewKey();

    /// <summary>Adds the four test keys (reader, writer, config, all) to <paramref name="config"/>.</summary>
    public static GatewayConfig WithAdminKeys(this GatewayConfig config)
    {
        Key(config, 0, "reader", Reader, AdminRoles.BansRead);
        Key(config, 1, "writer", Writer, AdminRoles.BansWrite);
        Key(config, 2, "config", ConfigReader, AdminRoles.ConfigRead);
        Key(config, 3, "secops", All, AdminRoles.BansRead, AdminRoles.BansWrite, AdminRoles.ConfigRead);
        return config.Set("Admin:AuthFailureLimit", "1000");
    }

    public static GatewayConfig Key(GatewayConfig config, int index, string name, string key, params string[] roles)
    {
        config.Set($"Admin:ApiKeys:{index}:Name", name).Set($"Admin:ApiKeys:{index}:Sha256", ApiKeyHash.Compute(key));
        return config.List($"Admin:ApiKeys:{index}:Roles", roles);
    }

    public static string NewKey() => "test-" + Convert.ToBase64String(Guid.NewGuid().ToByteArray()).TrimEnd('=') + Guid.NewGuid().ToString("N");
}

/// <summary>Starts gateways for admin tests.</summary>
public static class AdminGateway
{
    /// <summary>Starts a gateway and waits until it is ready (Redis connected, ban cache loaded).</summary>
    public static async Task<GatewayServer> StartAsync(IDictionary<string, string?> configuration)
    {
        var gateway = await GatewayServer.StartAsync(configuration);
        using var admin = new HttpClient { BaseAddress = new Uri(gateway.AdminAddress) };
        using var ready = await Eventually.GetAsync(admin, "/health/ready", r => r.StatusCode == System.Net.HttpStatusCode.OK);
        Assert.Equal(System.Net.HttpStatusCode.OK, ready.StatusCode);
        return gateway;
    }
}

/// <summary>Requests to a gateway's admin listener.</summary>
public sealed class AdminApi : IDisposable
{
    public AdminApi(GatewayServer gateway, string? key = null, HttpClient? http = null)
    {
        Http = http ?? new HttpClient { BaseAddress = new Uri(gateway.AdminAddress) };
        Key = key;
    }

    public HttpClient Http { get; }

    public string? Key { get; }

    public static string Path(string target) => "/admin/bans/" + Uri.EscapeDataString(target);

    public Task<HttpResponseMessage> GetAsync(string path) => SendAsync(HttpMethod.Get, path);

    public Task<HttpResponseMessage> DeleteAsync(string path) => SendAsync(HttpMethod.Delete, path);

    public Task<HttpResponseMessage> PostJsonAsync(string path, string json) => SendAsync(HttpMethod.Post, path, Json(json));

    public Task<HttpResponseMessage> PatchJsonAsync(string path, string json) => SendAsync(HttpMethod.Patch, path, Json(json));

    public Task<HttpResponseMessage> BanAsync(string target, string? duration = "01:00:00", string? reason = null, bool? overrideAllowlist = null)
    {
        var body = new Dictionary<string, object?> { ["target"] = target, ["duration"] = duration, ["reason"] = reason };
        if (overrideAllowlist is { } flag)
        {
            body["overrideAllowlist"] = flag;
        }

        return PostJsonAsync("/admin/bans", JsonSerializer.Serialize(body));
    }

    public async Task<HttpResponseMessage> SendAsync(HttpMethod method, string path, HttpContent? content = null, string? key = null)
    {
        using var request = new HttpRequestMessage(method, path) { Content = content };
        if ((key ?? Key) is { } k)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("ApiKey", k);
        }

        return await Http.SendAsync(request);
    }

    public static StringContent Json(string json) => new(json, Encoding.UTF8, "application/json");

    public static async Task<JsonElement> ReadJsonAsync(HttpResponseMessage response)
    {
        var text = await response.Content.ReadAsStringAsync();
        return JsonDocument.Parse(text).RootElement.Clone();
    }

    /// <summary>Asserts a problem+json answer with this status and returns its <c>detail</c>.</summary>
    public static async Task<string> AssertProblemAsync(HttpResponseMessage response, int status, string? kind = null)
    {
        var body = await response.Content.ReadAsStringAsync();
        Assert.True((int)response.StatusCode == status, $"expected {status}, got {(int)response.StatusCode}: {body}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        using var problem = JsonDocument.Parse(body);
        Assert.Equal(status, problem.RootElement.GetProperty("status").GetInt32());
        Assert.StartsWith("urn:mdvgateway:problem:", problem.RootElement.GetProperty("type").GetString(), StringComparison.Ordinal);
        if (kind is not null)
        {
            Assert.Equal("urn:mdvgateway:problem:admin:" + kind, problem.RootElement.GetProperty("type").GetString());
        }

        return problem.RootElement.GetProperty("detail").GetString() ?? string.Empty;
    }

    public void Dispose() => Http.Dispose();
}
