using System.Text;

namespace MdvGateway.Gateway.Configuration;

/// <summary>Thrown at start-up when configuration is invalid; the message lists every problem with its path.</summary>
public sealed class GatewayConfigurationException : Exception
{
    public GatewayConfigurationException()
    {
        Problems = [];
    }

    public GatewayConfigurationException(string message)
        : base(message)
    {
        Problems = [message];
    }

    public GatewayConfigurationException(string message, Exception innerException)
        : base(message, innerException)
    {
        Problems = [message];
    }

    internal GatewayConfigurationException(IReadOnlyList<string> problems)
        : base(Format(problems))
    {
        Problems = problems;
    }

    public IReadOnlyList<string> Problems { get; }

    internal static string Format(IReadOnlyList<string> problems)
    {
        var builder = new StringBuilder()
            .Append("Invalid gateway configuration (")
            .Append(problems.Count)
            .Append(problems.Count == 1 ? " problem):" : " problems):");
        foreach (var problem in problems)
        {
            builder.AppendLine().Append("  - ").Append(problem);
        }

        return builder.ToString();
    }
}
