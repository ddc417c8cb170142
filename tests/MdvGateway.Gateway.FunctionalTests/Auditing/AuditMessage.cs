using System.Text;
using System.Text.Json;
using MdvGateway.Contracts;

namespace MdvGateway.Gateway.FunctionalTests.Auditing;

/// <summary>One message of the audit queue as a consumer sees it: the contract it was published as, its body, its events.</summary>
/// <param name="MessageType">The contract's name: <c>AuditEventRecorded</c> (one event) or <c>AuditEventsRecorded</c> (many).</param>
/// <param name="Body">The whole MassTransit envelope, as text.</param>
/// <param name="Events">The events it carries, in order.</param>
internal sealed record AuditMessage(string MessageType, string Body, IReadOnlyList<AuditEventRecorded> Events)
{
    public const string Single = nameof(AuditEventRecorded);
    public const string Batch = nameof(AuditEventsRecorded);

    /// <summary>Reads a MassTransit JSON envelope of either audit contract; anything else fails the test.</summary>
    public static AuditMessage Read(ReadOnlyMemory<byte> body)
    {
        var text = Encoding.UTF8.GetString(body.Span);
        using var envelope = JsonDocument.Parse(body);
        var types = envelope.RootElement.GetProperty("messageType").EnumerateArray().Select(t => t.GetString()).ToList();
        var message = envelope.RootElement.GetProperty("message");
        if (types.Contains("urn:message:MdvGateway.Contracts:AuditEventsRecorded"))
        {
            var batch = message.Deserialize<AuditEventsRecorded>(JsonSerializerOptions.Web)!;
            Assert.NotEmpty(batch.Events);
            return new AuditMessage(Batch, text, batch.Events);
        }

        Assert.Contains("urn:message:MdvGateway.Contracts:AuditEventRecorded", types);
        return new AuditMessage(Single, text, [message.Deserialize<AuditEventRecorded>(JsonSerializerOptions.Web)!]);
    }
}
