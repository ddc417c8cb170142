using System.Globalization;
using CsCheck;
using MdvGateway.Gateway.Admin;
using MdvGateway.Gateway.Configuration;
using MdvGateway.Gateway.RateLimiting;
using MdvGateway.Gateway.Tests.Configuration;

namespace MdvGateway.Gateway.Tests.Properties;

/// <summary>
/// Property tests of what SREs and the security team type: durations, policy settings, any value for any key of
/// <c>appsettings.json</c>. A wrong value is refused with a message naming its key, never an exception.
/// </summary>
public sealed class ConfigurationProperties
{
    /// <summary>Keys of every section the gateway validates, with a few of their neighbours.</summary>
    private static readonly string[] Keys =
    [
        "Redis:TimeoutMs", "Redis:BreakAfterFailures", "Redis:BreakDuration", "Redis:KeyPrefix", "Redis:Configuration",
        "ClientIp:TrustedProxies:0", "ClientIp:IPv6PrefixLength",
        "RateLimiting:Policies:auth:PermitLimit", "RateLimiting:Policies:auth:Window", "RateLimiting:Policies:auth:PartitionBy",
        "RateLimiting:Policies:auth:Mode", "RateLimiting:Policies:auth:ReserveAhead", "RateLimiting:Policies:auth:Limits:0:PermitLimit",
        "RateLimiting:Exempt:0", "RateLimiting:WhenStoreUnavailable", "RateLimiting:DefaultPolicy",
        "IpBans:Enabled", "IpBans:StrikesBeforeBan", "IpBans:BanDurations:0", "IpBans:StatusCode", "IpBans:Allowlist:0",
        "Audit:Enabled", "Audit:AggregationInterval", "Audit:QueueCapacity",
        "Kestrel:Limits:KeepAliveTimeout", "Kestrel:Limits:MaxConcurrentConnections", "Kestrel:Limits:MaxRequestBodySize",
        "Kestrel:Limits:MinRequestBodyDataRate:BytesPerSecond", "RequestTimeouts:Default", "RequestTimeouts:Policies:short",
        "RequestLog:RefusalSummaryInterval", "RequestLog:RefusalSummaryClients", "RequestLog:LogRefusedRequests",
        "ReverseProxy:Routes:api:RateLimiterPolicy", "ReverseProxy:Clusters:app:Destinations:d1:Address",
        "Admin:Urls", "RateLimiting:Policies:auth:OnBreach",
    ];

    private static readonly Gen<string> Values = Gen.OneOf(
        Gen.Const(""), Gen.Const("-1"), Gen.Const("0"), Gen.Const("1e9"), Gen.Const("true"), Gen.Const("00:00:00"),
        Gen.Const("-00:00:01"), Gen.Const("99.23:59:59"), Gen.Const("2147483648"), Gen.Const("10.0.0.300/8"), Gen.Const("::/129"),
        Gen.Int.Select(i => i.ToString(CultureInfo.InvariantCulture)),
        Gen.TimeSpan.Select(t => t.ToString("c", CultureInfo.InvariantCulture)),
        Gen.String[Gen.Char["0123456789.:/-+ abcdefxyzTrueFalse%"], 0, 24],
        Gen.String[0, 40]);

    [Fact]
    public void AnyValueForAnyKey_IsAcceptedOrRefusedNamingAKey_NeverAnException()
        => Deterministic.ForAll(Gen.Select(Gen.Int[0, Keys.Length - 1], Values, Gen.Int[0, Keys.Length - 1], Values), t =>
        {
            var (first, firstValue, second, secondValue) = t;
            var configuration = TestConfiguration.With((Keys[first], firstValue), (Keys[second], secondValue));

            var settings = GatewaySettings.TryLoad(configuration, out var problems);

            if (settings is null)
            {
                Assert.NotEmpty(problems);
                Assert.All(problems, p => Assert.Matches(@"^[A-Za-z0-9_.\-]+(:[A-Za-z0-9_.\-]+)*:? ", p));
            }
            else
            {
                Assert.Empty(problems);
            }
        }, iterations: 1500);

    [Fact]
    public void BanDuration_EveryDurationInRange_RoundTrips_AndAnyTextIsAnsweredWithoutException()
    {
        Deterministic.ForAll(Gen.Long[1, BanInput.MaxDuration.Ticks].Select(t => TimeSpan.FromTicks(t)), duration =>
        {
            Assert.True(BanInput.TryParseDuration(duration.ToString("c", CultureInfo.InvariantCulture), out var parsed, out var error), error);
            Assert.Equal(duration, parsed);
        });

        Deterministic.ForAll(Gen.OneOf(Values, Gen.Long.Select(l => l.ToString(CultureInfo.InvariantCulture))), text =>
        {
            if (BanInput.TryParseDuration(text, out var parsed, out var error))
            {
                Assert.NotNull(parsed);
                Assert.InRange(parsed.Value, TimeSpan.FromTicks(1), BanInput.MaxDuration);
            }
            else
            {
                Assert.StartsWith("duration", error, StringComparison.Ordinal);
            }

            // A bare number would be read as days by TimeSpan; it is never accepted.
            if (long.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out _))
            {
                Assert.Null(parsed);
            }
        }, iterations: 3000);
    }

    [Fact]
    public void PartitionBy_AnyText_ParsesToAFormThatParsesAgain_OrIsRefusedWithAMessage()
        => Deterministic.ForAll(Gen.OneOf(Values, Gen.String[Gen.Char["Header:ClientIp+Route-_ xX"], 0, 30]), text =>
        {
            if (PartitionBy.TryParse(text, out var partitionBy, out var error))
            {
                Assert.True(PartitionBy.TryParse(partitionBy.ToString(), out var again, out _));
                Assert.Equal(partitionBy, again);
            }
            else
            {
                Assert.False(string.IsNullOrWhiteSpace(error));
            }
        });
}
