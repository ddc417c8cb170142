using MdvGateway.Gateway.Proxy;
using Yarp.ReverseProxy.Forwarder;

namespace MdvGateway.Gateway.Tests.Proxy;

public sealed class UpstreamErrorMiddlewareTests
{
    [Theory]
    [InlineData(ForwarderError.RequestCanceled)]
    [InlineData(ForwarderError.RequestBodyCanceled)]
    [InlineData(ForwarderError.ResponseBodyCanceled)]
    [InlineData(ForwarderError.ResponseBodyClient)]
    [InlineData(ForwarderError.UpgradeRequestCanceled)]
    [InlineData(ForwarderError.UpgradeResponseCanceled)]
    public void ACancellationOrAClientWriteFailure_IsTheClientsDoing_OnlyWhenTheClientIsGone(ForwarderError error)
    {
        Assert.True(UpstreamErrorMiddleware.IsClientGone(error, new CancellationToken(canceled: true)));

        // With the client still connected, the same error came from the gateway's side (a stalled upstream body past
        // the activity timeout is cancelled too), and it must not be hidden as a 499.
        Assert.False(UpstreamErrorMiddleware.IsClientGone(error, CancellationToken.None));
    }

    [Theory]
    [InlineData(ForwarderError.Request)]
    [InlineData(ForwarderError.RequestTimedOut)]
    [InlineData(ForwarderError.NoAvailableDestinations)]
    [InlineData(ForwarderError.ResponseBodyDestination)]
    [InlineData(ForwarderError.RequestBodyDestination)]
    [InlineData(ForwarderError.ResponseHeaders)]
    public void UpstreamFailures_StayUpstreamFailures_EvenWhenTheClientHasGoneToo(ForwarderError error)
        => Assert.False(UpstreamErrorMiddleware.IsClientGone(error, new CancellationToken(canceled: true)));
}
