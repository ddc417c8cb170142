namespace MdvGateway.Gateway.Tests.Deployment;

/// <summary>A container image reference split the way Docker reads it: <c>[host/]path[:tag][@digest]</c>.</summary>
internal sealed record ImageReference(string? Host, string Repository, string? Tag, string? Digest)
{
    public static ImageReference Parse(string reference)
    {
        string? digest = null;
        var at = reference.IndexOf('@', StringComparison.Ordinal);
        if (at >= 0)
        {
            digest = reference[(at + 1)..];
            reference = reference[..at];
        }

        string? tag = null;
        var colon = reference.LastIndexOf(':');
        if (colon > reference.LastIndexOf('/'))
        {
            tag = reference[(colon + 1)..];
            reference = reference[..colon];
        }

        // Docker's rule: the first path component is a registry host when it has a dot or a port, or is localhost.
        string? host = null;
        var slash = reference.IndexOf('/', StringComparison.Ordinal);
        if (slash > 0)
        {
            var first = reference[..slash];
            if (first.Contains('.', StringComparison.Ordinal) || first.Contains(':', StringComparison.Ordinal) || first == "localhost")
            {
                host = first;
                reference = reference[(slash + 1)..];
            }
        }

        return new ImageReference(host, reference, tag, digest);
    }

    /// <summary>Pinned to something other than the moving <c>latest</c> tag.</summary>
    public bool IsPinned => Digest is not null || (Tag is { Length: > 0 } && Tag != "latest");
}
