using System.Text;

namespace MdvGateway.AuditConsumer.Configuration;

/// <summary>Thrown at start-up when configuration is invalid; the message lists every problem with its path.</summary>
public sealed class AuditConsumerConfigurationException : Exception
{
    public AuditConsumerConfigurationException()
    {
        Problems = [];
    }

    public AuditConsumerConfigurationException(string message)
        : base(message)
    {
        Problems = [message];
    }

    public AuditConsumerConfigurationException(string message, Exception innerException)
        : base(message, innerException)
    {
        Problems = [message];
    }

    internal AuditConsumerConfigurationException(IReadOnlyList<string> problems)
        : base(Format(problems))
    {
        Problems = problems;
    }

    public IReadOnlyList<string> Problems { get; }

    internal static string Format(IReadOnlyList<string> problems)
    {
        var builder = new StringBuilder()
            .Append("Invalid audit-consumer configuration (")
            .Append(problems.Count)
            .Append(problems.Count == 1 ? " problem):" : " problems):");
        foreach (var problem in problems)
        {
            builder.AppendLine().Append("  - ").Append(problem);
        }

        return builder.ToString();
    }
}
