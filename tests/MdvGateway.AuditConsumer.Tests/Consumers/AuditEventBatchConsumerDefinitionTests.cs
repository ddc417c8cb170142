using MdvGateway.AuditConsumer.Configuration;
using MdvGateway.AuditConsumer.Consumers;

namespace MdvGateway.AuditConsumer.Tests.Consumers;

public sealed class AuditEventBatchConsumerDefinitionTests
{
    [Theory]
    [InlineData(500, 2, 100, 50)]
    [InlineData(500, 2, 1000, 500)]
    [InlineData(10, 4, 100, 10)]
    [InlineData(500, 32, 32, 1)]
    public void MessagesPerBatch_IsTheBatchSize_OrTheBatchsShareOfThePrefetch(int batchSize, int concurrent, int prefetch, int expected)
        => Assert.Equal(expected, AuditEventBatchConsumerDefinition.MessagesPerBatch(
            new AuditOptions { BatchSize = batchSize, ConcurrentBatches = concurrent, PrefetchCount = prefetch }));
}
