using System.Text.Json;
using System.Text.Json.Serialization;
using MdvGateway.Gateway.IpBans;

namespace MdvGateway.Gateway.Admin;

/// <summary>Every body the admin API reads or writes; unknown and duplicate fields are errors, nulls are written.</summary>
[JsonSourceGenerationOptions(
    JsonSerializerDefaults.Web,
    DefaultIgnoreCondition = JsonIgnoreCondition.Never,
    UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
    AllowDuplicateProperties = false)]
[JsonSerializable(typeof(CreateBanRequest))]
[JsonSerializable(typeof(ChangeBanRequest))]
[JsonSerializable(typeof(ImportBanLine))]
[JsonSerializable(typeof(Ban))]
[JsonSerializable(typeof(BanList))]
[JsonSerializable(typeof(ImportReport))]
[JsonSerializable(typeof(OffenderList))]
[JsonSerializable(typeof(PolicyList))]
internal sealed partial class AdminJson : JsonSerializerContext
{
    /// <summary>
    /// For responses: quotes and apostrophes in reasons left as they are (the answers are never embedded in HTML,
    /// and the security team reads them in a terminal).
    /// </summary>
    // Built on first use: static initialisers of the generated half of this class run in an unspecified order.
    public static AdminJson Responses => LazyInitializer.EnsureInitialized(ref s_responses, static () => new AdminJson(new JsonSerializerOptions(Default.Options)
    {
        Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    }));

    private static AdminJson? s_responses;
}
