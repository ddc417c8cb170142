using System.Net;
using System.Text;
using MdvGateway.Gateway.FunctionalTests.Infrastructure;

namespace MdvGateway.Gateway.FunctionalTests.Admin;

/// <summary>One gateway for every bad-input case: none of them may change anything, and none may be a 500.</summary>
public sealed class AdminBadInputFixture : IAsyncLifetime
{
    public GatewayServer Gateway { get; private set; } = null!;

    public AdminApi Admin { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        var config = new GatewayConfig("http://127.0.0.1:9/").WithAdminKeys();
        Gateway = await AdminGateway.StartAsync(config.Values);
        Admin = new AdminApi(Gateway, AdminKeys.All);
        using var existing = await Admin.BanAsync("192.0.2.200", "01:00:00", "target for PATCH cases");
        Assert.Equal(HttpStatusCode.Created, existing.StatusCode);
    }

    public async Task DisposeAsync()
    {
        Admin.Dispose();
        await Gateway.DisposeAsync();
    }
}

public sealed class AdminBadInputTests(AdminBadInputFixture fixture) : IClassFixture<AdminBadInputFixture>
{
    private const string Existing = "/admin/bans/192.0.2.200";

    public static TheoryData<string, string> BadBans() => new()
    {
        { """{"target":"203.0.113.300","duration":"01:00:00"}""", "not a valid" },
        { """{"target":"not-an-ip","duration":"01:00:00"}""", "not a valid" },
        { """{"target":"203.0.113.7/24","duration":"01:00:00"}""", "bits set" },
        { """{"target":"203.0.113.0/33","duration":"01:00:00"}""", "prefix length" },
        { """{"target":"10.1","duration":"01:00:00"}""", "not a valid" },
        { """{"target":"fe80::1%eth0","duration":"01:00:00"}""", "zone" },
        { """{"target":"","duration":"01:00:00"}""", "required" },
        { """{"target":null,"duration":"01:00:00"}""", "required" },
        { """{"target":"203.0.113.7","duration":"-01:00:00"}""", "negative" },
        { """{"target":"203.0.113.7","duration":"00:00:00"}""", "longer than zero" },
        { """{"target":"203.0.113.7","duration":"1h"}""", "hh:mm:ss" },
        { """{"target":"203.0.113.7","duration":"60"}""", "hh:mm:ss" },
        { """{"target":"203.0.113.7","duration":""}""", "hh:mm:ss" },
        { """{"target":"203.0.113.7","duration":"99999.00:00:00"}""", "at most" },
        { """{"target":"203.0.113.7","duration":3600}""", "'duration' has the wrong type" },
        { """{"target":"203.0.113.7"}""", "'duration' is required" },
        { """{"duration":"01:00:00"}""", "'target' is required" },
        { """{"target":"203.0.113.7","duration":"01:00:00","ttl":5}""", "unknown field 'ttl'" },
        { """{"target":"203.0.113.7","duration":"01:00:00","target":"203.0.113.8"}""", "more than once" },
        { """{"target":"203.0.113.7","duration":"01:00:00","overrideAllowlist":"true"}""", "'overrideAllowlist' has the wrong type" },
        { """{"target":["203.0.113.7"],"duration":"01:00:00"}""", "'target' has the wrong type" },
        { """[{"target":"203.0.113.7","duration":"01:00:00"}]""", "expected a JSON object" },
        { """{"target":"203.0.113.7","duration":"01:00:00",""", "not valid JSON" },
        { """{'target':'203.0.113.7'}""", "not valid JSON" },
        { """{"target":"203.0.113.7","duration":"01:00:00",}""", "not valid JSON" },
        { "null", "expected a JSON object" },
    };

    [Theory]
    [MemberData(nameof(BadBans))]
    public async Task Post_BadBan_Is400ProblemAndChangesNothing(string json, string expected)
    {
        using var response = await fixture.Admin.PostJsonAsync("/admin/bans", json);

        var detail = await AdminApi.AssertProblemAsync(response, 400);
        Assert.Contains(expected, detail, StringComparison.Ordinal);
        Assert.DoesNotContain("MdvGateway", detail, StringComparison.Ordinal);
        using var one = await fixture.Admin.GetAsync("/admin/bans/203.0.113.7");
        Assert.Equal(HttpStatusCode.NotFound, one.StatusCode);
    }

    [Fact]
    public async Task Post_ReasonTooLong_Is400()
    {
        using var response = await fixture.Admin.BanAsync("203.0.113.7", "01:00:00", new string('r', 1001));

        Assert.Contains("reason", await AdminApi.AssertProblemAsync(response, 400), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("text/plain")]
    [InlineData("application/x-www-form-urlencoded")]
    [InlineData("text/csv")]
    [InlineData("application/json; charset=iso-8859-1")]
    [InlineData(null)]
    public async Task Post_WrongContentType_Is400UnsupportedMediaTypeProblem(string? contentType)
    {
        var content = new ByteArrayContent(Encoding.UTF8.GetBytes("""{"target":"203.0.113.7","duration":"01:00:00"}"""));
        if (contentType is not null)
        {
            content.Headers.TryAddWithoutValidation("Content-Type", contentType);
        }

        using var response = await fixture.Admin.SendAsync(HttpMethod.Post, "/admin/bans", content);

        await AdminApi.AssertProblemAsync(response, 400, "unsupported-media-type");
    }

    [Fact]
    public async Task Post_JsonWithCharsetAndVendorType_IsAccepted()
    {
        var content = new StringContent("""{"target":"192.0.2.201","duration":"00:01:00"}""", Encoding.UTF8);
        content.Headers.ContentType = System.Net.Http.Headers.MediaTypeHeaderValue.Parse("application/vnd.mdv+json; charset=utf-8");

        using var response = await fixture.Admin.SendAsync(HttpMethod.Post, "/admin/bans", content);

        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
    }

    [Fact]
    public async Task Post_EmptyBody_Is400()
        => await AdminApi.AssertProblemAsync(await fixture.Admin.SendAsync(HttpMethod.Post, "/admin/bans", new StringContent(string.Empty, Encoding.UTF8, "application/json")), 400);

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task Post_BodyOver64KiB_Is400TooLargeProblem(bool chunked)
    {
        var json = $$"""{"target":"203.0.113.7","duration":"01:00:00","reason":"{{new string('x', 70_000)}}"}""";
        HttpContent content = chunked
            ? new StreamContent(new NonSeekableStream(Encoding.UTF8.GetBytes(json)))
            : new StringContent(json, Encoding.UTF8);
        content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/json");

        using var response = await fixture.Admin.SendAsync(HttpMethod.Post, "/admin/bans", content);

        await AdminApi.AssertProblemAsync(response, 400, "too-large");
    }

    public static TheoryData<string, string> BadChanges() => new()
    {
        { """{"expiresAt":"tomorrow"}""", "ISO 8601" },
        { """{"expiresAt":"2001-01-01T00:00:00Z"}""", "not in the future" },
        { """{"expiresAt":"2999-01-01T00:00:00Z"}""", "days away" },
        { """{"duration":"-00:05:00"}""", "negative" },
        { """{"duration":"5 minutes"}""", "hh:mm:ss" },
        { """{"duration":"00:10:00","expiresAt":null}""", "exactly one" },
        { "{}", "exactly one" },
        { """{"reason":"new reason"}""", "unknown field 'reason'" },
        { """{"duration":600}""", "wrong type" },
        { "[]", "expected a JSON object" },
        { "{", "not valid JSON" },
    };

    [Theory]
    [MemberData(nameof(BadChanges))]
    public async Task Patch_BadChange_Is400ProblemAndKeepsTheBan(string json, string expected)
    {
        using var before = await fixture.Admin.GetAsync(Existing);
        var expiresAt = (await AdminApi.ReadJsonAsync(before)).GetProperty("expiresAt").GetDateTimeOffset();

        using var response = await fixture.Admin.PatchJsonAsync(Existing, json);

        Assert.Contains(expected, await AdminApi.AssertProblemAsync(response, 400), StringComparison.Ordinal);
        using var after = await fixture.Admin.GetAsync(Existing);
        Assert.Equal(expiresAt, (await AdminApi.ReadJsonAsync(after)).GetProperty("expiresAt").GetDateTimeOffset());
    }

    [Theory]
    [InlineData("GET", "/admin/bans?ip=nope", "ip:")]
    [InlineData("GET", "/admin/bans?ip=203.0.113.0/33", "ip:")]
    [InlineData("GET", "/admin/bans?contains=10.1.2.3%2F8", "contains:")]
    [InlineData("GET", "/admin/bans?contains=", "contains:")]
    [InlineData("GET", "/admin/bans?origin=robot", "origin:")]
    [InlineData("GET", "/admin/bans?since=last-week", "since:")]
    [InlineData("GET", "/admin/bans?until=2026-02-30T00:00:00Z", "until:")]
    [InlineData("GET", "/admin/bans?since=2026-02-02&until=2026-02-01", "since must be earlier")]
    [InlineData("GET", "/admin/bans?limit=0", "limit:")]
    [InlineData("GET", "/admin/bans?limit=10001", "limit:")]
    [InlineData("GET", "/admin/bans?limit=abc", "limit:")]
    [InlineData("GET", "/admin/bans?offset=-5", "offset:")]
    [InlineData("GET", "/admin/bans?format=xml", "format:")]
    [InlineData("GET", "/admin/bans?orgin=auto", "unknown query parameter")]
    [InlineData("GET", "/admin/bans?origin=auto&origin=manual", "more than once")]
    [InlineData("GET", "/admin/bans/not-an-ip", "not a valid")]
    [InlineData("GET", "/admin/bans/203.0.113.1%2F24", "bits set")]
    [InlineData("GET", "/admin/bans/192.0.2.200?verbose=1", "unknown query parameter")]
    [InlineData("DELETE", "/admin/bans/192.0.2.200?resetLevel=maybe", "resetLevel")]
    [InlineData("DELETE", "/admin/bans/999.0.0.1", "not a valid")]
    [InlineData("GET", "/admin/offenders?top=0", "top:")]
    [InlineData("GET", "/admin/offenders?top=1001", "top:")]
    [InlineData("GET", "/admin/offenders?limit=5", "unknown query parameter")]
    [InlineData("GET", "/admin/policies?x=1", "unknown query parameter")]
    public async Task BadParameters_Are400Problems(string method, string path, string expected)
    {
        using var response = await fixture.Admin.SendAsync(new HttpMethod(method), path);

        Assert.Contains(expected, await AdminApi.AssertProblemAsync(response, 400), StringComparison.Ordinal);
        using var stillThere = await fixture.Admin.GetAsync(Existing);
        Assert.Equal(HttpStatusCode.OK, stillThere.StatusCode);
    }

    [Theory]
    [InlineData("application/json", """{"target":"203.0.113.7","duration":null}""", "array")]
    [InlineData("application/json", "[{", "not valid JSON")]
    [InlineData("text/csv", "ip,ttl\n203.0.113.7,01:00:00\n", "header")]
    [InlineData("text/csv", "target,duration\n\"203.0.113.7,01:00:00\n", "never closed")]
    [InlineData("text/csv", "", "body is required")]
    public async Task Import_BadShape_Is400AndImportsNothing(string contentType, string body, string expected)
    {
        using var response = await fixture.Admin.SendAsync(HttpMethod.Post, "/admin/bans/import", new StringContent(body, Encoding.UTF8, contentType));

        Assert.Contains(expected, await AdminApi.AssertProblemAsync(response, 400), StringComparison.Ordinal);
        using var one = await fixture.Admin.GetAsync("/admin/bans/203.0.113.7");
        Assert.Equal(HttpStatusCode.NotFound, one.StatusCode);
    }

    [Fact]
    public async Task Import_InvalidUtf8Csv_Is400()
    {
        var content = new ByteArrayContent([.. Encoding.ASCII.GetBytes("target,duration,reason\n203.0.113.7,01:00:00,"), 0xC3, 0x28, (byte)'\n']);
        content.Headers.TryAddWithoutValidation("Content-Type", "text/csv");

        using var response = await fixture.Admin.SendAsync(HttpMethod.Post, "/admin/bans/import", content);

        Assert.Contains("UTF-8", await AdminApi.AssertProblemAsync(response, 400), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Import_WrongContentType_Is400UnsupportedMediaType()
        => await AdminApi.AssertProblemAsync(await fixture.Admin.SendAsync(HttpMethod.Post, "/admin/bans/import", new StringContent("203.0.113.7", Encoding.UTF8, "text/plain")), 400, "unsupported-media-type");

    [Fact]
    public async Task Import_MoreThan100kLines_Is400()
    {
        var csv = new StringBuilder("target,duration\n");
        for (var i = 0; i <= 100_000; i++)
        {
            csv.Append("10.").Append(i >> 16).Append('.').Append((i >> 8) & 255).Append('.').Append(i & 255).Append(",01:00:00\n");
        }

        using var response = await fixture.Admin.SendAsync(HttpMethod.Post, "/admin/bans/import", new StringContent(csv.ToString(), Encoding.UTF8, "text/csv"));

        Assert.Contains("100000", await AdminApi.AssertProblemAsync(response, 400), StringComparison.Ordinal);
        using var none = await fixture.Admin.GetAsync("/admin/bans?contains=10.0.0.0%2F8&limit=1");
        Assert.Equal(0, (await AdminApi.ReadJsonAsync(none)).GetProperty("total").GetInt32());
    }

    [Fact]
    public async Task Import_Over5MiB_Is400TooLarge()
    {
        var body = "[" + string.Join(",", Enumerable.Repeat("""{"target":"203.0.113.7","duration":"01:00:00","reason":"padding padding padding padding padding padding padding"}""", 60_000)) + "]";

        using var response = await fixture.Admin.SendAsync(HttpMethod.Post, "/admin/bans/import", new StringContent(body, Encoding.UTF8, "application/json"));

        await AdminApi.AssertProblemAsync(response, 400, "too-large");
    }

    [Theory]
    [InlineData("PUT", "/admin/bans", 405)]
    [InlineData("GET", "/admin/nothing-here", 404)]
    [InlineData("POST", "/admin/policies", 405)]
    public async Task UnknownPathsAndMethods_AreProblemsToo(string method, string path, int status)
        => await AdminApi.AssertProblemAsync(await fixture.Admin.SendAsync(new HttpMethod(method), path), status);

    /// <summary>A stream without a length, so the body is sent chunked and the limit must hold without Content-Length.</summary>
    private sealed class NonSeekableStream(byte[] data) : MemoryStream(data)
    {
        public override bool CanSeek => false;
    }
}
