using MdvGateway.Contracts;

namespace MdvGateway.Gateway.Auditing;

/// <summary>Talking to the broker, and what the publisher believes about it.</summary>
internal sealed partial class AuditPublisher
{
    /// <summary>
    /// Packs <paramref name="events"/> into messages, publishes them concurrently, waits at most
    /// <see cref="AuditOptions.PublishTimeout"/>, and returns the events of every message that was not confirmed.
    /// </summary>
    private async Task<List<AuditEventRecorded>> PublishAsync(List<AuditEventRecorded> events, string source, CancellationToken cancellationToken)
    {
        using var deadline = new CancellationTokenSource(_options.PublishTimeout, _time);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, deadline.Token);
        if (!_topologyDeclared && !await TryDeclareTopologyAsync(timeout.Token))
        {
            return [.. events];
        }

        var single = _options.MaxEventsPerMessage == 1;
        var counts = single ? null : AuditMessageSplitter.Split(events, _options.MaxEventsPerMessage);
        var messageCount = counts?.Count ?? events.Count;
        var publishes = new Task[messageCount];
        var closedAt = _time.GetUtcNow();
        for (int i = 0, offset = 0; i < messageCount; i++)
        {
            var count = counts?[i] ?? 1;
            publishes[i] = single
                ? PublishOneAsync(events[offset], timeout.Token)
                : PublishManyAsync(new AuditEventsRecorded(Guid.NewGuid(), closedAt, events.GetRange(offset, count)), timeout.Token);
            offset += count;
        }

        Exception? failure = null;
        try
        {
            await Task.WhenAll(publishes);
        }
        catch (Exception ex)
        {
            failure = ex;
        }

        var unpublished = new List<AuditEventRecorded>();
        var confirmedMessages = 0;
        for (int i = 0, offset = 0; i < messageCount; i++)
        {
            var count = counts?[i] ?? 1;
            if (publishes[i].IsCompletedSuccessfully)
            {
                confirmedMessages++;
            }
            else
            {
                unpublished.AddRange(events.GetRange(offset, count));
            }

            offset += count;
        }

        var confirmed = events.Count - unpublished.Count;
        if (confirmed > 0)
        {
            _metrics.AuditPublished(confirmed, source);
            _metrics.AuditMessagesPublished(confirmedMessages, single ? nameof(AuditEventRecorded) : nameof(AuditEventsRecorded));
        }

        if (unpublished.Count == 0)
        {
            BrokerBack();
        }
        else
        {
            BrokerAway(failure);
        }

        return unpublished;
    }

    private async Task<bool> TryDeclareTopologyAsync(CancellationToken cancellationToken)
    {
        using var deadline = new CancellationTokenSource(_options.PublishTimeout, _time);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, deadline.Token);
        try
        {
            await _transport.DeclareTopologyAsync(timeout.Token);
            _topologyDeclared = true;
            BrokerBack();
            Log.TopologyDeclared(_logger, AuditTopology.ExchangeList, AuditTopology.QueueName);
            return true;
        }
        catch (Exception ex)
        {
            BrokerAway(ex);
            return false;
        }
    }

    private Task PublishOneAsync(AuditEventRecorded auditEvent, CancellationToken cancellationToken)
    {
        try
        {
            return _transport.PublishAsync(auditEvent, cancellationToken);
        }
        catch (Exception ex)
        {
            return Task.FromException(ex);
        }
    }

    private Task PublishManyAsync(AuditEventsRecorded message, CancellationToken cancellationToken)
    {
        try
        {
            return _transport.PublishAsync(message, cancellationToken);
        }
        catch (Exception ex)
        {
            return Task.FromException(ex);
        }
    }

    private void BrokerAway(Exception? error = null)
    {
        var now = _time.GetUtcNow();
        if (!_brokerAway)
        {
            _brokerAway = true;
            Volatile.Write(ref _unreachableSinceTicks, now.UtcTicks);
            _state = AuditBrokerState.Unreachable;
            _retryDelay = FirstRetryDelay;
            var (type, message) = error is null ? ("unknown", "no detail") : Describe(error);
            Log.BrokerAway(_logger, _options.RabbitMq.Host, _options.RabbitMq.Port, type, message);
        }
        else
        {
            _retryDelay = Min(_retryDelay * 2, LongestRetryDelay);
        }

        _retryAt = now + _retryDelay;
    }

    private void BrokerBack()
    {
        _state = AuditBrokerState.Reachable;
        if (_brokerAway)
        {
            _brokerAway = false;
            Volatile.Write(ref _unreachableSinceTicks, 0);
            _retryDelay = FirstRetryDelay;
            Log.BrokerBack(_logger, _options.RabbitMq.Host, _options.RabbitMq.Port, _spool.Bytes);
        }
    }

    private static (string Type, string Message) Describe(Exception error)
    {
        if (error is AggregateException { InnerExceptions.Count: > 0 } aggregate)
        {
            error = aggregate.InnerExceptions[0];
        }

        return error is OperationCanceledException
            ? ("Timeout", "no confirmation within Audit:PublishTimeout")
            : (error.GetType().Name, error.Message);
    }
}
