namespace MdvGateway.AuditConsumer.Tests.Infrastructure;

internal static class Eventually
{
    /// <summary>Polls <paramref name="probe"/> until it returns true; fails with <paramref name="what"/> and the last
    /// observed state after <paramref name="timeout"/>.</summary>
    public static async Task TrueAsync(Func<Task<bool>> probe, TimeSpan timeout, string what, Func<Task<string>>? state = null)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            if (await probe())
            {
                return;
            }

            if (DateTime.UtcNow >= deadline)
            {
                var observed = state is null ? "" : $" (last observed: {await state()})";
                Assert.Fail($"Timed out after {timeout.TotalSeconds:0} s waiting for: {what}{observed}");
            }

            await Task.Delay(100);
        }
    }
}
