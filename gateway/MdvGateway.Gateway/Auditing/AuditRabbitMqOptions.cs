namespace MdvGateway.Gateway.Auditing;

/// <summary>The <c>Audit:RabbitMq</c> section (the audit consumer reads a <c>RabbitMq</c> section of the same shape).</summary>
public sealed class AuditRabbitMqOptions
{
    /// <summary>Host name or address of the broker, without scheme or port. Default <c>127.0.0.1</c>.</summary>
    public string Host { get; set; } = "127.0.0.1";

    /// <summary>AMQP port. Default 5672.</summary>
    public int Port { get; set; } = 5672;

    /// <summary>Virtual host. Default <c>/</c>.</summary>
    public string VirtualHost { get; set; } = "/";

    /// <summary>User name. Default <c>guest</c> (which RabbitMQ accepts over loopback only).</summary>
    public string Username { get; set; } = "guest";

    /// <summary>Password. Default <c>guest</c>. Never logged; prefer an environment variable or a secret store to the file.</summary>
    public string Password { get; set; } = "guest";
}
