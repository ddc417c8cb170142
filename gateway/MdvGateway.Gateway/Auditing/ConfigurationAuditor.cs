using MdvGateway.Gateway.Configuration;

namespace MdvGateway.Gateway.Auditing;

/// <summary>
/// Records hot-reload outcomes: <c>config.reloaded</c> with the sections and settings that changed (paths only, never a
/// value), <c>config.rejected</c> with every problem (validation never echoes a secret, see <see cref="GatewaySettings"/>).
/// </summary>
internal sealed class ConfigurationAuditor : IHostedService
{
    private readonly GatewaySettingsMonitor _settings;
    private readonly IConfiguration _configuration;
    private readonly IAuditSink _sink;
    private readonly TimeProvider _time;
    private readonly Lock _sync = new();
    private Dictionary<string, string> _inForce = [];
    private string? _lastRejection;

    public ConfigurationAuditor(GatewaySettingsMonitor settings, IConfiguration configuration, IAuditSink sink, TimeProvider time)
    {
        _settings = settings;
        _configuration = configuration;
        _sink = sink;
        _time = time;
    }

    public Task StartAsync(CancellationToken cancellationToken)
    {
        _inForce = ConfigurationChanges.Snapshot(_configuration);
        _settings.Changed += OnChanged;
        _settings.Rejected += OnRejected;
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken)
    {
        _settings.Changed -= OnChanged;
        _settings.Rejected -= OnRejected;
        return Task.CompletedTask;
    }

    private void OnChanged(GatewaySettings inForce)
    {
        List<string> changed;
        List<string> settings;
        lock (_sync)
        {
            var now = ConfigurationChanges.Snapshot(_configuration);
            changed = ConfigurationChanges.Between(_inForce, now);
            settings = ConfigurationChanges.SettingsBetween(_inForce, now);
            _inForce = now;
            _lastRejection = null;
        }

        // File watchers often fire twice for one save; only a real change is worth a row.
        if (changed.Count > 0)
        {
            _sink.Record(AuditEvents.ConfigReloaded(changed, settings, _time.GetUtcNow()));
        }
    }

    private void OnRejected(IReadOnlyList<string> problems)
    {
        var rejection = string.Join('\n', problems);
        lock (_sync)
        {
            if (rejection == _lastRejection)
            {
                return;
            }

            _lastRejection = rejection;
        }

        _sink.Record(AuditEvents.ConfigRejected(problems, _time.GetUtcNow()));
    }
}
