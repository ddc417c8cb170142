namespace MdvGateway.AuditConsumer.Configuration;

/// <summary>
/// The broker the consumer reads audit events from: section <c>RabbitMq</c>, the same shape as the gateway's
/// <c>Audit:RabbitMq</c>. Read once at start.
/// </summary>
public sealed class RabbitMqOptions
{
    public const string SectionName = "RabbitMq";

    /// <summary>Host name or address of the broker. Default <c>127.0.0.1</c>.</summary>
    public string Host { get; set; } = "127.0.0.1";

    /// <summary>AMQP port. Default <c>5672</c>.</summary>
    public ushort Port { get; set; } = 5672;

    /// <summary>Virtual host. Default <c>/</c>.</summary>
    public string VirtualHost { get; set; } = "/";

    /// <summary>User name. Default <c>guest</c> (which RabbitMQ accepts over loopback only).</summary>
    public string Username { get; set; } = "guest";

    /// <summary>Password. Default <c>guest</c>. Never logged.</summary>
    public string Password { get; set; } = "guest";
}
