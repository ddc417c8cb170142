using System.Text.Json;
using System.Text.Json.Serialization;
using MdvGateway.Contracts;

namespace MdvGateway.Gateway.Auditing;

/// <summary>How events are written to the spool: one camelCase JSON object per line.</summary>
[JsonSourceGenerationOptions(JsonSerializerDefaults.Web)]
[JsonSerializable(typeof(AuditEventRecorded))]
internal sealed partial class AuditJson : JsonSerializerContext;
