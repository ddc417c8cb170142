using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Globalization;
using System.Net;
using MdvGateway.Contracts;
using MdvGateway.Gateway.Auditing;
using MdvGateway.Gateway.Diagnostics;
using MdvGateway.Gateway.FunctionalTests.Infrastructure;
using MdvGateway.Gateway.RateLimiting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using RabbitMQ.Client;
using Xunit.Abstractions;

namespace MdvGateway.Gateway.FunctionalTests.Auditing;

/// <summary>Many events per message against the real RabbitMQ: which contract goes out, how full, and at what rate.</summary>
public sealed class AuditBatchPublishingTests(UpstreamFixture fixture, ITestOutputHelper output) : IClassFixture<UpstreamFixture>, IDisposable
{
    private readonly UpstreamServer _upstream = fixture.Upstream;
    private readonly string _spool = AuditTestKit.NewSpoolDirectory();

    public void Dispose() => AuditTestKit.DeleteDirectory(_spool);

    [Fact]
    public async Task DefaultSettings_CarryManyEventsPerMessage_AndBothExchangesLeadToTheQueue()
    {
        await using var vhost = await RabbitMqTestBroker.CreateVirtualHostAsync();
        var config = Config(vhost.Name);
        var gateway = await GatewayServer.StartAsync(config.Values);
        var clients = Enumerable.Range(1, 30).Select(i => $"127.0.48.{i}").ToList();
        var rejected = 0;
        try
        {
            Assert.True(await Eventually.TrueAsync(async () => await vhost.MessageCountAsync("audit-events") == 0));
            // Declared by the gateway alone, before any consumer: whichever contract a message is, it waits in the queue.
            await using (var connection = await vhost.ConnectAsync())
            await using (var channel = await connection.CreateChannelAsync())
            {
                foreach (var exchange in new[] { "MdvGateway.Contracts:AuditEventRecorded", "MdvGateway.Contracts:AuditEventsRecorded" })
                {
                    await channel.BasicPublishAsync(exchange, "", "probe"u8.ToArray());
                }
            }

            Assert.True(await Eventually.TrueAsync(async () => await vhost.MessageCountAsync("audit-events") == 2));
            while (await vhost.TakeRawAsync() is not null)
            {
            }

            foreach (var ip in clients)
            {
                using var client = TestClients.From(ip, gateway.Address);
                rejected += (await AuditTestKit.BurstAsync(client, "/auth/x", 4)).Count(s => s == HttpStatusCode.TooManyRequests);
            }
        }
        finally
        {
            // The aggregation interval is long: everything is flushed at once by the graceful stop.
            await gateway.DisposeAsync();
        }

        var messages = await vhost.TakeMessagesAsync();
        var events = messages.SelectMany(m => m.Events).ToList();
        Assert.Equal(90, rejected);
        Assert.Equal(rejected, AuditTestKit.SumOfCounts(events, AuditEventTypes.RateLimitExceeded));
        Assert.Equal(clients.Order(), events.Select(e => e.ClientIp!).Order());
        Assert.All(messages, m => Assert.Equal(AuditMessage.Batch, m.MessageType));
        Assert.Single(messages);
    }

    [Fact]
    public async Task MaxEventsPerMessageOne_PublishesEveryEventAsAMessageOfItsOwn()
    {
        await using var vhost = await RabbitMqTestBroker.CreateVirtualHostAsync();
        var config = Config(vhost.Name).Set("Audit:MaxEventsPerMessage", "1");
        var gateway = await GatewayServer.StartAsync(config.Values);
        var clients = Enumerable.Range(1, 12).Select(i => $"127.0.49.{i}").ToList();
        try
        {
            foreach (var ip in clients)
            {
                using var client = TestClients.From(ip, gateway.Address);
                await AuditTestKit.BurstAsync(client, "/auth/x", 3);
            }
        }
        finally
        {
            await gateway.DisposeAsync();
        }

        var messages = await vhost.TakeMessagesAsync();
        Assert.Equal(12, messages.Count);
        Assert.All(messages, m => Assert.Equal((AuditMessage.Single, 1), (m.MessageType, m.Events.Count)));
        Assert.Equal(24, AuditTestKit.SumOfCounts(messages.SelectMany(m => m.Events), AuditEventTypes.RateLimitExceeded));
    }

    [Fact]
    public async Task TwentyThousandClientsPerSecond_WithTheDefaultQueueCapacity_AreAllPublished_NothingSpooled()
    {
        await using var vhost = await RabbitMqTestBroker.CreateVirtualHostAsync();
        var options = new AuditOptions
        {
            RabbitMq = new AuditRabbitMqOptions { Host = "127.0.0.1", Port = RabbitMqTestBroker.Port, VirtualHost = vhost.Name },
            SpoolDirectory = _spool,
            // The test flushes each interval itself, so that every flush holds exactly one round of the botnet.
            AggregationInterval = TimeSpan.FromMinutes(10),
        };
        using var services = new ServiceCollection().AddMetrics().BuildServiceProvider();
        var factory = services.GetRequiredService<IMeterFactory>();
        using var counters = new CounterTotals(factory);
        var metrics = new GatewayMetrics(factory);
        var spool = new AuditSpool(SpoolDirectoryLock.Acquire(_spool), options.MaxSpoolBytes, metrics, NullLogger<AuditSpool>.Instance);
        var queue = new AuditQueue(options.QueueCapacity, spool, metrics);
        var sink = new AuditSink(queue, TimeProvider.System);
        var transport = new MassTransitAuditTransport(options, NullLogger<MassTransitAuditTransport>.Instance);
        var publisher = new AuditPublisher(sink, queue, spool, transport, options, TimeProvider.System, metrics, NullLogger<AuditPublisher>.Instance);
        var limit = new RateLimit("per-ip", 100, TimeSpan.FromSeconds(1));
        const int Clients = 20_000;
        const int Seconds = 5;
        var clients = Enumerable.Range(0, Clients).Select(i => $"198.18.{i >> 8}.{i & 0xFF}").ToArray();

        // What counting and aggregating a round costs without publishing it, to tell the publisher's share apart.
        var calibration = new AuditAggregator();
        var calibrationCpu = Process.GetCurrentProcess().TotalProcessorTime;
        foreach (var ip in clients)
        {
            calibration.AddRejection(ip, "api", "per-ip", limit, DateTimeOffset.UtcNow);
        }

        Assert.Equal(Clients, calibration.Flush(DateTimeOffset.UtcNow, "calibration").Count);
        var aggregationPerEvent = (Process.GetCurrentProcess().TotalProcessorTime - calibrationCpu).TotalMicroseconds / Clients;

        await publisher.StartAsync(CancellationToken.None);
        Assert.True(await Eventually.TrueAsync(async () => await vhost.MessageCountAsync("audit-events") == 0, TimeSpan.FromSeconds(30)));
        var maxQueued = 0;
        var cpu = Process.GetCurrentProcess().TotalProcessorTime;
        var clock = Stopwatch.StartNew();
        try
        {
            // A botnet: every address rejected in every aggregation interval, so each flush queues 20,000 events at once.
            for (var second = 0; second < Seconds; second++)
            {
                foreach (var ip in clients)
                {
                    sink.RateLimitRejected(ip, "api", "per-ip", limit, DateTimeOffset.UtcNow);
                }

                sink.FlushAggregates();

                var next = TimeSpan.FromSeconds(second + 1);
                while (clock.Elapsed < next)
                {
                    maxQueued = Math.Max(maxQueued, queue.Count);
                    await Task.Delay(5);
                }
            }

            var published = await Eventually.TrueAsync(() => Task.FromResult(counters.Total("mdv.gateway.audit.published") >= Clients * Seconds), TimeSpan.FromSeconds(60));
            Assert.True(published, $"published {counters.Total("mdv.gateway.audit.published")}, queued {counters.Total("mdv.gateway.audit.queued")}, spooled {counters.Total("mdv.gateway.audit.spooled")}, in the queue {queue.Count}");
        }
        finally
        {
            await publisher.StopAsync(CancellationToken.None);
            publisher.Dispose();
            spool.Dispose();
            await transport.DisposeAsync();
        }

        var cpuPerEvent = (Process.GetCurrentProcess().TotalProcessorTime - cpu).TotalMicroseconds / counters.Total("mdv.gateway.audit.published");
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{counters.Total("mdv.gateway.audit.published")} events in {counters.Total("mdv.gateway.audit.messages")} messages over {clock.Elapsed.TotalSeconds:F1} s; " +
            $"at most {maxQueued} queued; {cpuPerEvent:F1} µs CPU per event in the whole test process, of which counting and aggregating " +
            $"{aggregationPerEvent:F1} µs: about {cpuPerEvent - aggregationPerEvent:F1} µs to queue, pack, publish and confirm"));
        Assert.Equal(0, counters.Total("mdv.gateway.audit.spooled"));
        Assert.Equal(0, counters.Total("mdv.gateway.audit.dropped"));
        var messages = await vhost.TakeMessagesAsync();
        var events = messages.SelectMany(m => m.Events).ToList();
        Assert.Equal(Clients * Seconds, events.Count);
        Assert.Equal(Clients * Seconds, events.Select(e => e.EventId).Distinct().Count());
        Assert.All(messages, m => Assert.Equal(AuditMessage.Batch, m.MessageType));
        Assert.True(messages.Count <= (Clients * Seconds / 500) + Seconds + 5, $"{messages.Count} messages for {events.Count} events");
        Assert.Equal(messages.Count, counters.Total("mdv.gateway.audit.messages"));
    }

    private GatewayConfig Config(string virtualHost)
        => new GatewayConfig(_upstream.Address)
            .Route("login", "/auth", "auth")
            .Policy("auth", 1, "00:01:00")
            .WithAudit(_spool, RabbitMqTestBroker.Port, virtualHost)
            .Set("Audit:AggregationInterval", "00:10:00");

    /// <summary>Totals of the counters of one meter factory.</summary>
    private sealed class CounterTotals : IDisposable
    {
        private readonly MeterListener _listener = new();
        private readonly System.Collections.Concurrent.ConcurrentDictionary<string, long> _totals = new(StringComparer.Ordinal);

        public CounterTotals(IMeterFactory factory)
        {
            _listener.InstrumentPublished = (instrument, listener) =>
            {
                if (ReferenceEquals(instrument.Meter.Scope, factory))
                {
                    listener.EnableMeasurementEvents(instrument);
                }
            };
            _listener.SetMeasurementEventCallback<long>((instrument, value, _, _) => _totals.AddOrUpdate(instrument.Name, value, (_, total) => total + value));
            _listener.Start();
        }

        public long Total(string instrument) => _totals.GetValueOrDefault(instrument);

        public void Dispose() => _listener.Dispose();
    }
}
