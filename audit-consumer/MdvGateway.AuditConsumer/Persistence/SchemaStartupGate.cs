namespace MdvGateway.AuditConsumer.Persistence;

/// <summary>Opens once <see cref="SchemaStartupService"/> has checked (and, if configured, migrated) the schema, so
/// partition maintenance does not race a migration running at start.</summary>
internal sealed class SchemaStartupGate
{
    private readonly TaskCompletionSource _opened = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public Task WaitAsync(CancellationToken cancellationToken) => _opened.Task.WaitAsync(cancellationToken);

    public void Open() => _opened.TrySetResult();
}
