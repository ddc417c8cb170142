using CsCheck;

namespace MdvGateway.Gateway.Tests.Properties;

/// <summary>
/// Runs a CsCheck generator from a fixed seed, so a property sees the same inputs on every run and machine (no flaky
/// tests), in bounded time. A failure names the iteration and the input.
/// </summary>
internal static class Deterministic
{
    /// <summary>The seed of every property test; change it on purpose to explore other inputs.</summary>
    private const ulong Seed = 20261207;

    public static void ForAll<T>(Gen<T> gen, Action<T> property, int iterations = 2000)
    {
        var pcg = new PCG(1, Seed);
        for (var i = 0; i < iterations; i++)
        {
            var value = gen.Generate(pcg, null, out _);
            try
            {
                property(value);
            }
            catch (Exception ex)
            {
                throw new InvalidOperationException($"property failed at iteration {i} (seed {Seed}) for input {Show(value)}: {ex.Message}", ex);
            }
        }
    }

    private static string Show<T>(T value) => value switch
    {
        string s => "\"" + s.Replace("\"", "\\\"", StringComparison.Ordinal) + "\"",
        System.Collections.IEnumerable items => "[" + string.Join(", ", items.Cast<object?>().Select(o => o?.ToString())) + "]",
        _ => value?.ToString() ?? "null",
    };
}
