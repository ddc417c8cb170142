using System.Diagnostics.Metrics;
using MdvGateway.AuditConsumer.Diagnostics;
using MdvGateway.Gateway.Diagnostics;
using Microsoft.Extensions.DependencyInjection;

namespace MdvGateway.Gateway.Tests.Deployment;

/// <summary>
/// The Prometheus series the two services export, derived from their metrics classes: each class is built through a
/// real <see cref="IMeterFactory"/>, its instruments are collected with a <see cref="MeterListener"/>, and
/// <see cref="PrometheusNaming"/> turns them into the names the OpenTelemetry exporter writes. Renaming an instrument
/// in the code changes these sets, so every file checked against them notices.
/// </summary>
internal static class ExportedMetrics
{
    /// <summary>
    /// Built-in instruments the dashboard relies on, as OpenTelemetry semantic conventions name them (ASP.NET Core
    /// hosting and Kestrel meters), plus Prometheus's own <c>up</c>. Named as instruments, not as Prometheus names,
    /// so they go through the same naming rules as ours.
    /// </summary>
    public static readonly IReadOnlyList<InstrumentShape> BuiltIn =
    [
        new("http.server.request.duration", "s", InstrumentKind.Histogram),
        new("http.server.active_requests", "{request}", InstrumentKind.Gauge),
        new("kestrel.active_connections", "{connection}", InstrumentKind.Gauge),
    ];

    /// <summary>The series Prometheus itself adds to every target.</summary>
    public static readonly IReadOnlyList<string> ScrapeSeries = ["up"];

    public static IReadOnlyList<InstrumentShape> Gateway { get; } = Collect(GatewayMetrics.MeterName, factory => new GatewayMetrics(factory));

    public static IReadOnlyList<InstrumentShape> Consumer { get; } = Collect(AuditMetrics.MeterName, factory => new AuditMetrics(factory));

    /// <summary>Every series name a query may use: ours, the built-in ones, and <c>up</c>.</summary>
    public static IReadOnlySet<string> QueryableSeries { get; } =
        Gateway.Concat(Consumer).Concat(BuiltIn).SelectMany(PrometheusNaming.SeriesNames).Concat(ScrapeSeries).ToHashSet(StringComparer.Ordinal);

    /// <summary>The metric families of our own instruments (histograms once, without <c>_bucket</c> etc.).</summary>
    public static IReadOnlyList<string> OwnFamilies { get; } =
        Gateway.Concat(Consumer).Select(PrometheusNaming.FamilyName).Order(StringComparer.Ordinal).ToList();

    /// <summary>The instruments <paramref name="create"/> makes on the meter <paramref name="meterName"/>.</summary>
    public static IReadOnlyList<InstrumentShape> Collect(string meterName, Func<IMeterFactory, object> create)
    {
        using var services = new ServiceCollection().AddMetrics().BuildServiceProvider();
        var factory = services.GetRequiredService<IMeterFactory>();
        var found = new List<InstrumentShape>();
        using var listener = new MeterListener
        {
            InstrumentPublished = (instrument, _) =>
            {
                // Only this factory's meter: other tests create the same meter name in their own factories.
                if (instrument.Meter.Name == meterName && ReferenceEquals(instrument.Meter.Scope, factory))
                {
                    lock (found)
                    {
                        found.Add(InstrumentShape.Of(instrument));
                    }
                }
            },
        };
        listener.Start();
        create(factory);
        return found;
    }
}

public enum InstrumentKind
{
    Counter,
    Gauge,
    Histogram,
}

/// <summary>What the exporter needs to know of an instrument to name it.</summary>
internal sealed record InstrumentShape(string Name, string? Unit, InstrumentKind Kind)
{
    public static InstrumentShape Of(Instrument instrument)
    {
        var type = instrument.GetType();
        var definition = type.IsGenericType ? type.GetGenericTypeDefinition() : type;
        var kind = definition == typeof(Counter<>) || definition == typeof(ObservableCounter<>) ? InstrumentKind.Counter
            : definition == typeof(Histogram<>) ? InstrumentKind.Histogram
            : InstrumentKind.Gauge; // UpDownCounter, ObservableUpDownCounter, Gauge, ObservableGauge
        return new InstrumentShape(instrument.Name, instrument.Unit, kind);
    }

    public override string ToString() => $"{Name} ({Unit}, {Kind})";
}
