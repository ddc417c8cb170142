using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using System.Text.Json;
using MdvGateway.Contracts;
using MdvGateway.Gateway.Auditing;
using MdvGateway.Gateway.Diagnostics;
using Microsoft.Extensions.DependencyInjection;

namespace MdvGateway.Gateway.Tests.Auditing;

/// <summary>A <see cref="GatewayMetrics"/> of its own whose counters a test can read (no other test's measurements).</summary>
internal sealed class MetricsProbe : IDisposable
{
    private readonly ServiceProvider _services;
    private readonly MeterListener _listener;
    private readonly ConcurrentDictionary<string, long> _totals = new(StringComparer.Ordinal);

    public MetricsProbe()
    {
        _services = new ServiceCollection().AddMetrics().BuildServiceProvider();
        var factory = _services.GetRequiredService<IMeterFactory>();
        _listener = new MeterListener
        {
            InstrumentPublished = (instrument, listener) =>
            {
                if (ReferenceEquals(instrument.Meter.Scope, factory))
                {
                    listener.EnableMeasurementEvents(instrument);
                }
            },
        };
        _listener.SetMeasurementEventCallback<long>((instrument, value, tags, _) =>
        {
            _totals.AddOrUpdate(instrument.Name, value, (_, total) => total + value);
            foreach (var tag in tags)
            {
                _totals.AddOrUpdate($"{instrument.Name}|{tag.Key}={tag.Value}", value, (_, total) => total + value);
            }
        });
        _listener.Start();
        Metrics = new GatewayMetrics(factory);
    }

    public GatewayMetrics Metrics { get; }

    /// <summary>The sum of a counter, optionally only the measurements carrying <paramref name="tag"/> (<c>reason=queue_full</c>).</summary>
    public long Total(string instrument, string? tag = null)
        => _totals.TryGetValue(tag is null ? instrument : $"{instrument}|{tag}", out var total) ? total : 0;

    public void Dispose()
    {
        _listener.Dispose();
        _services.Dispose();
    }
}

/// <summary>A broker the test switches on and off; "off" fails at once or, with <see cref="Hang"/>, until cancelled.</summary>
internal sealed class FakeAuditTransport : IAuditTransport
{
    private int _declarations;

    /// <summary>Every confirmed event, whichever message carried it.</summary>
    public ConcurrentQueue<AuditEventRecorded> Published { get; } = new();

    /// <summary>Every confirmed message, as the events it carried, and whether it was the one-event contract.</summary>
    public ConcurrentQueue<(bool Single, IReadOnlyList<AuditEventRecorded> Events)> Messages { get; } = new();

    /// <summary>Fails every message carrying this event (once it is set), the others go through.</summary>
    public volatile AuditEventRecorded? Poison;

    public volatile bool Available = true;

    public volatile bool Hang;

    public int Declarations => Volatile.Read(ref _declarations);

    public bool Started { get; private set; }

    public bool Stopped { get; private set; }

    public void Start() => Started = true;

    public Task DeclareTopologyAsync(CancellationToken cancellationToken)
    {
        if (!Available)
        {
            return FailAsync(cancellationToken);
        }

        Interlocked.Increment(ref _declarations);
        return Task.CompletedTask;
    }

    public Task PublishAsync(AuditEventRecorded auditEvent, CancellationToken cancellationToken)
        => Accept(true, [auditEvent], cancellationToken);

    public Task PublishAsync(AuditEventsRecorded message, CancellationToken cancellationToken)
        => Accept(false, message.Events, cancellationToken);

    private Task Accept(bool single, IReadOnlyList<AuditEventRecorded> events, CancellationToken cancellationToken)
    {
        if (!Available)
        {
            return FailAsync(cancellationToken);
        }

        if (Poison is { } poison && events.Contains(poison))
        {
            return Task.FromException(new InvalidOperationException("message refused"));
        }

        lock (Messages)
        {
            Messages.Enqueue((single, events));
            foreach (var auditEvent in events)
            {
                Published.Enqueue(auditEvent);
            }
        }

        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken)
    {
        Stopped = true;
        return Task.CompletedTask;
    }

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;

    private Task FailAsync(CancellationToken cancellationToken)
        => Hang ? Task.Delay(Timeout.Infinite, cancellationToken) : Task.FromException(new InvalidOperationException("broker down"));
}

/// <summary>A fresh directory under the temp folder, deleted afterwards.</summary>
internal sealed class TempDirectory : IDisposable
{
    public TempDirectory()
    {
        Path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "mdv-audit-unit-" + Guid.NewGuid().ToString("N")[..12]);
        Directory.CreateDirectory(Path);
    }

    public string Path { get; }

    public string[] Segments() => Directory.GetFiles(Path, "audit-*.jsonl").Order(StringComparer.Ordinal).ToArray();

    public void Dispose()
    {
        try
        {
            Directory.Delete(Path, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}

internal static class AuditTestEvents
{
    public static AuditEventRecorded Discrete(string type = "admin.test", string? client = "203.0.113.9")
        => new(Guid.NewGuid(), DateTimeOffset.UtcNow, type, client, "api", "auth", "tester", AuditDetails.Build(w => w.WriteString("note", "x")));

    public static long Count(AuditEventRecorded e) => e.Details.GetProperty("count").GetInt64();

    public static string Text(JsonElement details, string name) => details.GetProperty(name).ToString();

    /// <summary>Polls a condition that background work makes true; these tests never measure time with it.</summary>
    public static async Task<bool> EventuallyAsync(Func<bool> condition, Action? between = null)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (!condition())
        {
            if (DateTime.UtcNow > deadline)
            {
                return false;
            }

            between?.Invoke();
            await Task.Delay(10);
        }

        return true;
    }
}
