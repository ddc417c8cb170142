using System.Net;
using System.Net.Sockets;
using CsCheck;
using MdvGateway.Gateway.ClientIdentity;
using MdvGateway.Gateway.IpBans;
using Microsoft.Extensions.Primitives;

namespace MdvGateway.Gateway.Tests.Properties;

/// <summary>
/// Property tests of the parsers that read what clients and operators write: forwarded hops, addresses and networks,
/// ban targets. Every input gets an answer (accepted or refused), never an exception; accepted input round-trips.
/// </summary>
public sealed class AddressParsingProperties
{
    private static readonly Gen<IPAddress> IPv4 = Gen.UInt.Select(v => new IPAddress(BitConverter.GetBytes(v)));

    private static readonly Gen<IPAddress> IPv6 = Gen.Byte.Array[16].Select(b => new IPAddress(b)).Where(a => !a.IsIPv4MappedToIPv6);

    private static readonly Gen<IPAddress> AnyAddress = Gen.OneOf(IPv4, IPv6);

    /// <summary>Text built from the characters these parsers care about, plus anything else.</summary>
    private static readonly Gen<string> Hostile = Gen.OneOf(
        Gen.String[Gen.Char["0123456789abcdefABCDEF.:/[]%, -+\t"], 0, 80],
        Gen.String[0, 80],
        AnyAddress.Select(a => a.ToString()).SelectMany(s => Gen.Int[0, s.Length].Select(Gen.Char, (cut, c) => s.Insert(cut, c.ToString()))));

    [Fact]
    public void ForwardedHop_AnAddressWithOrWithoutAPort_ParsesToItself()
        => Deterministic.ForAll(Gen.Select(AnyAddress, Gen.Int[0, 65535], Gen.Bool), t =>
        {
            var (address, port, withPort) = t;
            var text = !withPort ? address.ToString()
                : address.AddressFamily == AddressFamily.InterNetwork ? $"{address}:{port}"
                : $"[{address}]:{port}";

            Assert.True(ClientIpResolver.TryParseHop(text, out var parsed), text);
            Assert.Equal(address, parsed);
        });

    [Fact]
    public void ForwardedHop_AnyText_IsAcceptedOnlyAsAnAddressThatParsesAgain()
        => Deterministic.ForAll(Hostile, text =>
        {
            if (ClientIpResolver.TryParseHop(text, out var parsed))
            {
                Assert.True(ClientIpResolver.TryParseHop(parsed.ToString(), out var again));
                Assert.Equal(parsed, again);
            }
        }, iterations: 5000);

    [Fact]
    public void Resolver_FindsTheRightMostHopThatIsNotATrustedProxy_WhateverTheHeader()
    {
        var proxies = NetworkList.Parse(["10.0.0.0/8"]);
        var resolver = new ClientIpResolver(proxies, 64);
        var proxyHop = Gen.Int[0, 255].Select(i => IPAddress.Parse($"10.0.0.{i}"));
        var clientHop = Gen.UInt[0x0B000000u, 0xDF000000u].Select(v => new IPAddress(BitConverter.GetBytes(v).Reverse().ToArray()));
        var hop = Gen.Frequency((3, proxyHop.Select(a => a.ToString())), (3, clientHop.Select(a => a.ToString())), (1, Hostile));
        Deterministic.ForAll(Gen.Select(hop.Array[0, 40], Gen.Int[1, 3]), t =>
        {
            var (hops, split) = t;
            var header = new StringValues([.. hops.Chunk(Math.Max(1, hops.Length / split)).Select(c => string.Join(", ", c))]);
            var identity = resolver.Resolve(IPAddress.Parse("10.0.0.1"), header);

            // The model: walk from the right while hops are trusted proxies; stop at a malformed or untrusted one.
            IPAddress expected = IPAddress.Parse("10.0.0.1");
            var walked = 0;
            foreach (var entry in hops.SelectMany(h => h.Split(',')).Select(e => e.Trim()).Where(e => e.Length > 0).Reverse())
            {
                if (++walked > ClientIpResolver.MaxHops || !ClientIpResolver.TryParseHop(entry, out var parsed))
                {
                    break;
                }

                expected = parsed;
                if (!proxies.Contains(parsed))
                {
                    break;
                }
            }

            Assert.Equal(expected, identity.Address);
        });
    }

    [Fact]
    public void Network_EveryMaskedPrefix_ParsesAndContainsItsAddresses_AndHostBitsAreRefused()
        => Deterministic.ForAll(Gen.Select(AnyAddress, Gen.Int[0, 128]), t =>
        {
            var (address, wanted) = t;
            var max = address.AddressFamily == AddressFamily.InterNetwork ? 32 : 128;
            var prefix = Math.Min(wanted, max);
            var masked = NetworkList.Mask(address, prefix);

            Assert.True(NetworkList.TryParseNetwork($"{masked}/{prefix}", out var network, out var error), error);
            Assert.True(NetworkList.Parse([$"{masked}/{prefix}"]).Contains(address));
            Assert.Equal(prefix, network.PrefixLength);
            if (!masked.Equals(address))
            {
                Assert.False(NetworkList.TryParseNetwork($"{address}/{prefix}", out _, out error));
                Assert.Contains("bits set after", error, StringComparison.Ordinal);
            }

            Assert.False(NetworkList.TryParseNetwork($"{masked}/{max + 1}", out _, out _));
        });

    [Fact]
    public void Network_AnyText_IsRefusedWithAMessage_OrRoundTrips()
        => Deterministic.ForAll(Hostile, text =>
        {
            if (NetworkList.TryParseNetwork(text, out var network, out var error))
            {
                Assert.True(NetworkList.TryParseNetwork(network.ToString(), out var again, out _));
                Assert.Equal(network, again);
            }
            else
            {
                Assert.False(string.IsNullOrWhiteSpace(error));
            }
        }, iterations: 5000);

    [Fact]
    public void BanTarget_AnyText_IsRefusedWithAMessage_OrHasACanonicalFormThatParsesToTheSameTarget()
        => Deterministic.ForAll(Gen.OneOf(Hostile, AnyAddress.Select(a => a.ToString())), text =>
        {
            if (BanTarget.TryParse(text, 64, out var target, out var error))
            {
                Assert.True(BanTarget.TryParse(target.Canonical, 64, out var again, out _));
                Assert.Equal(target.Network, again.Network);
                Assert.Equal(target.Canonical, again.Canonical);
                Assert.True(target.Network.Contains(target.Network.BaseAddress));
            }
            else
            {
                Assert.False(string.IsNullOrWhiteSpace(error));
            }
        }, iterations: 5000);
}
