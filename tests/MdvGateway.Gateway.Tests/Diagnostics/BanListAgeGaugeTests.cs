using System.Diagnostics.Metrics;
using MdvGateway.Gateway.Diagnostics;
using Microsoft.Extensions.DependencyInjection;

namespace MdvGateway.Gateway.Tests.Diagnostics;

/// <summary><c>mdv_gateway_bans_sync_age_seconds</c>: absent before the first load, then the time since the last one.</summary>
public sealed class BanListAgeGaugeTests : IDisposable
{
    private readonly ServiceProvider _services = new ServiceCollection().AddMetrics().BuildServiceProvider();
    private readonly MeterListener _listener = new();
    private readonly GatewayMetrics _metrics;
    private readonly List<double> _observed = [];

    public BanListAgeGaugeTests()
    {
        var meterFactory = _services.GetRequiredService<IMeterFactory>();
        _metrics = new GatewayMetrics(meterFactory);
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (ReferenceEquals(instrument.Meter.Scope, meterFactory) && instrument.Name == "mdv.gateway.bans.sync_age")
            {
                listener.EnableMeasurementEvents(instrument);
            }
        };
        _listener.SetMeasurementEventCallback<double>((_, value, _, _) => _observed.Add(value));
        _listener.Start();
    }

    [Fact]
    public async Task Gauge_IsAbsentBeforeTheFirstLoad_ThenGrowsUntilTheNextOne()
    {
        Assert.Empty(Observe());

        _metrics.BanListLoaded();
        var first = Assert.Single(Observe());
        Assert.True(first >= 0);

        await Task.Delay(50);
        var later = Assert.Single(Observe());
        Assert.True(later > first, $"{later} should exceed {first}");

        _metrics.BanListLoaded();
        Assert.True(Assert.Single(Observe()) < later, "a new load starts the count again");
    }

    public void Dispose()
    {
        _listener.Dispose();
        _services.Dispose();
    }

    private List<double> Observe()
    {
        _observed.Clear();
        _listener.RecordObservableInstruments();
        return [.. _observed];
    }
}
