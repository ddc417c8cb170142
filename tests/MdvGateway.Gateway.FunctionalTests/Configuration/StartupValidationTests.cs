using System.Diagnostics;
using MdvGateway.Gateway.Configuration;
using MdvGateway.Gateway.FunctionalTests.Infrastructure;

namespace MdvGateway.Gateway.FunctionalTests.Configuration;

public sealed class StartupValidationTests
{
    private static GatewayConfig ValidConfig()
        => new GatewayConfig("http://127.0.0.1:9/")
            .Route("login", "/auth", "auth")
            .Policy("auth", 5, "00:01:00");

    public static TheoryData<string, string?, string> BadSettings => new()
    {
        { "RateLimiting:Policies:auth:OnBreach", "Ban", "RateLimiting:Policies:auth:OnBreach: unknown key 'OnBreach'" },
        { "RateLimiting:Policies:auth:PermitLimit", "0", "RateLimiting:Policies:auth:PermitLimit: 0 must be between 1" },
        { "RateLimiting:Policies:auth:PermitLimit", "-3", "RateLimiting:Policies:auth:PermitLimit: -3 must be between 1" },
        { "RateLimiting:Policies:auth:Window", "1m", "RateLimiting:Policies:auth:Window: '1m' is not a valid duration" },
        { "RateLimiting:Exempt:0", "10.0.0.300/8", "RateLimiting:Exempt:0: '10.0.0.300/8' is not a valid IP address or CIDR range" },
        { "ClientIp:TrustedProxies:0", "10.1.2.3/8", "ClientIp:TrustedProxies:0: '10.1.2.3/8' has bits set after the /8 prefix" },
        { "ReverseProxy:Routes:login:RateLimiterPolicy", "atuh", "ReverseProxy:Routes:login:RateLimiterPolicy: 'atuh' is not defined under RateLimiting:Policies" },
        { "ReverseProxy:Routes:login:ClusterId", "ap", "ReverseProxy:Routes:login:ClusterId: 'ap' is not defined under ReverseProxy:Clusters (defined: app)" },
        { "Kestrel:Limits:KeepAliveTimeout", "fifteen", "Kestrel:Limits:KeepAliveTimeout: 'fifteen' is not a valid duration" },
        { "Kestrel:Limits:RequestHeadersTimeout", "00:00:00", "Kestrel:Limits:RequestHeadersTimeout: 00:00:00 must be between" },
        { "RequestLog:RefusalSummaryInterval", "00:00:00", "RequestLog:RefusalSummaryInterval: 00:00:00 must be between" },
        { "RequestLog:RefusalSummaryClients", "-1", "RequestLog:RefusalSummaryClients: -1 must be between 0 and 1000" },
        { "ReverseProxy:Clusters:app:Destinations:d1:Address", "127.0.0.1:9", "ReverseProxy:Clusters:app:Destinations:d1:Address: '127.0.0.1:9' is not an absolute http:// or https:// URL" },
    };

    [Theory]
    [MemberData(nameof(BadSettings))]
    public async Task Build_WithOneBadSetting_FailsNamingIt(string key, string? value, string expected)
    {
        var config = ValidConfig().Set(key, value);

        var error = await Assert.ThrowsAsync<GatewayConfigurationException>(() => GatewayServer.StartAsync(config.Values));

        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
        Assert.Single(error.Problems);
    }

    [Fact]
    public async Task Build_WithEveryKindOfBadSetting_ReportsThemAllInOneMessage()
    {
        var config = ValidConfig();
        foreach (var (key, value, _) in BadSettings.Select(row => ((string)row[0], (string?)row[1], (string)row[2])).DistinctBy(r => r.Item1))
        {
            config.Set(key, value);
        }

        var error = await Assert.ThrowsAsync<GatewayConfigurationException>(() => GatewayServer.StartAsync(config.Values));

        foreach (var path in new[] { "RateLimiting:Policies:auth:OnBreach", "RateLimiting:Policies:auth:PermitLimit", "RateLimiting:Policies:auth:Window", "RateLimiting:Exempt:0", "ClientIp:TrustedProxies:0", "ReverseProxy:Routes:login:RateLimiterPolicy" })
        {
            Assert.Contains(error.Message.Split('\n'), line => line.TrimStart().StartsWith("- " + path, StringComparison.Ordinal));
        }
    }

    [Fact]
    public async Task GatewayProcess_WithBadConfiguration_ExitsNonZeroAndPrintsEveryProblem()
    {
        var (exitCode, message, output) = await RunGatewayAsync(
            "--urls", "http://127.0.0.1:0", "--Admin:Urls", "http://127.0.0.1:0",
            "--RateLimiting:Policies:auth:OnBreach=Ban",
            "--RateLimiting:Policies:per-ip:PermitLimit=0",
            "--RateLimiting:Policies:per-ip:Window=soon");

        Assert.Equal(2, exitCode);
        Assert.Contains("Invalid gateway configuration (3 problems)", message, StringComparison.Ordinal);
        Assert.Contains("RateLimiting:Policies:auth:OnBreach", message, StringComparison.Ordinal);
        Assert.Contains("RateLimiting:Policies:per-ip:PermitLimit", message, StringComparison.Ordinal);
        Assert.Contains("RateLimiting:Policies:per-ip:Window", message, StringComparison.Ordinal);
        Assert.DoesNotContain("Unhandled exception", message + output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task GatewayProcess_WithItsAdminPortTaken_ExitsWithAClearMessage()
    {
        using var squatter = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        squatter.Start();
        var taken = ((System.Net.IPEndPoint)squatter.LocalEndpoint).Port;

        var (exitCode, stderr, _) = await RunGatewayAsync("--urls", "http://127.0.0.1:0", "--Admin:Urls", $"http://127.0.0.1:{taken}", "--Redis:Configuration", "127.0.0.1:1,connectTimeout=100", "--Audit:Enabled=false");

        Assert.Equal(3, exitCode);
        Assert.Contains($"Cannot listen: Failed to bind to address http://127.0.0.1:{taken}", stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("Unhandled exception", stderr, StringComparison.Ordinal);
    }

    private static async Task<(int ExitCode, string Stderr, string Stdout)> RunGatewayAsync(params string[] args)
    {
        var dll = Path.Combine(TestEnvironment.RepositoryRoot, "gateway", "MdvGateway.Gateway", "bin", TestEnvironment.BuildConfiguration, "net10.0", "MdvGateway.Gateway.dll");
        var start = new ProcessStartInfo("dotnet") { WorkingDirectory = Path.GetDirectoryName(dll)!, RedirectStandardError = true, RedirectStandardOutput = true };
        start.ArgumentList.Add(dll);
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        using var process = Process.Start(start)!;
        var stderr = process.StandardError.ReadToEndAsync();
        var stdout = process.StandardOutput.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await process.WaitForExitAsync(timeout.Token);
        return (process.ExitCode, await stderr, await stdout);
    }
}
