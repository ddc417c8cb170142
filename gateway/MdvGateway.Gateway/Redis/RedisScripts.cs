using System.Reflection;

namespace MdvGateway.Gateway.Redis;

/// <summary>
/// The gateway's Lua scripts (<c>Redis/Scripts/*.lua</c>, embedded in the assembly), each read once. StackExchange.Redis
/// loads a script into each server once (<c>SCRIPT LOAD</c>) and calls it by its SHA-1 from then on, reloading it by
/// itself after a server restart or <c>SCRIPT FLUSH</c>.
/// </summary>
internal static class RedisScripts
{
    /// <summary>The rate-limit engine: decisions, strikes and give-backs of a batch in one call (see the script's header).</summary>
    public static string Decide { get; } = Read("decide.lua");

    public static string BanUpsert { get; } = WithClock("ban-upsert.lua");

    public static string BanRemove { get; } = Read("ban-remove.lua");

    public static string BansActive { get; } = WithClock("bans-active.lua");

    public static string OffenseReschedule { get; } = WithClock("offense-reschedule.lua");

    /// <summary>A script that needs <c>now_ms()</c>, Redis's clock, which <c>clock.lua</c> defines once for all of them.</summary>
    private static string WithClock(string name) => Read("clock.lua") + Read(name);

    private static string Read(string name)
    {
        using var stream = Assembly.GetExecutingAssembly().GetManifestResourceStream("MdvGateway.Gateway.Redis.Scripts." + name)
            ?? throw new InvalidOperationException($"The Lua script {name} is not embedded in the gateway assembly.");
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }
}
