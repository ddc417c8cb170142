using System.Globalization;
using System.Text;

namespace MdvGateway.Gateway.RateLimiting;

/// <summary>
/// Formats the <c>RateLimit-Policy</c> and <c>RateLimit</c> fields of the IETF httpapi-ratelimit-headers draft:
/// <c>"auth";q=5;w=60</c> and <c>"auth";r=0;t=12</c>.
/// </summary>
internal static class RateLimitHeaders
{
    public const string PolicyHeader = "RateLimit-Policy";
    public const string RateLimitHeader = "RateLimit";

    public static string FormatPolicy(IEnumerable<RateLimit> limits)
    {
        var builder = new StringBuilder();
        foreach (var limit in limits)
        {
            if (builder.Length > 0)
            {
                builder.Append(", ");
            }

            builder.Append('"').Append(limit.Name).Append("\";q=")
                .Append(limit.PermitLimit.ToString(CultureInfo.InvariantCulture))
                .Append(";w=").Append(limit.WindowSeconds.ToString(CultureInfo.InvariantCulture));
        }

        return builder.ToString();
    }

    public static string FormatRemaining(ReadOnlySpan<LimitOutcome> outcomes)
    {
        if (outcomes.Length == 1)
        {
            return FormatOne(outcomes[0]);
        }

        var builder = new StringBuilder();
        foreach (var outcome in outcomes)
        {
            if (builder.Length > 0)
            {
                builder.Append(", ");
            }

            builder.Append(FormatOne(outcome));
        }

        return builder.ToString();
    }

    /// <remarks>Formatted on the stack: this runs for every admitted response.</remarks>
    private static string FormatOne(LimitOutcome outcome)
        => string.Create(CultureInfo.InvariantCulture, stackalloc char[128], $"\"{outcome.Limit.Name}\";r={outcome.Remaining};t={outcome.ResetSeconds}");

    /// <summary>Whole seconds, rounded up, never below one: a client told 0 would retry at once.</summary>
    public static long ToDeltaSeconds(TimeSpan delay)
        => Math.Max(1, (long)Math.Ceiling(delay.TotalSeconds));
}
