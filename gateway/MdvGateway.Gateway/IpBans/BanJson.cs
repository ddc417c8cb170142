using System.Text.Json;
using System.Text.Json.Serialization;

namespace MdvGateway.Gateway.IpBans;

/// <summary>A change announced on the ban channel.</summary>
internal sealed record BanEvent(string Op, string Target, Ban? Ban)
{
    public const string Upsert = "upsert";
    public const string Delete = "delete";
}

[JsonSourceGenerationOptions(JsonSerializerDefaults.Web, DefaultIgnoreCondition = JsonIgnoreCondition.Never)]
[JsonSerializable(typeof(Ban))]
[JsonSerializable(typeof(BanEvent))]
internal sealed partial class BanJson : JsonSerializerContext;
