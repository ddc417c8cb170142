using MdvGateway.AuditConsumer.Configuration;
using MdvGateway.AuditConsumer.Consumers;
using MdvGateway.AuditConsumer.Diagnostics;
using MdvGateway.AuditConsumer.Persistence;

namespace MdvGateway.AuditConsumer;

/// <summary>The consumer host, one line per feature. <c>Program</c> runs it; tests build it directly.</summary>
public static class AuditConsumerApplication
{
    /// <summary>The health and metrics listener when <c>Urls</c> is not set.</summary>
    public const string DefaultUrls = "http://127.0.0.1:8082";

    /// <exception cref="AuditConsumerConfigurationException">Configuration is invalid; the message lists every problem.</exception>
    public static WebApplication Build(string[] args, Action<WebApplicationBuilder>? configure = null)
    {
        var builder = WebApplication.CreateBuilder(args);
        configure?.Invoke(builder);
        if (string.IsNullOrEmpty(builder.Configuration[WebHostDefaults.ServerUrlsKey]))
        {
            builder.WebHost.UseUrls(DefaultUrls);
        }

        var settings = AuditConsumerSettings.TryLoad(builder.Configuration, out var problems)
                       ?? throw new AuditConsumerConfigurationException(problems);

        builder.AddAuditLogging();
        builder.Services
            .AddAuditSettings(settings)
            .AddAuditDiagnostics()
            .AddAuditPersistence(settings)
            .AddAuditConsumers(settings.RabbitMq);

        var app = builder.Build();
        app.MapAuditDiagnostics();
        return app;
    }
}
