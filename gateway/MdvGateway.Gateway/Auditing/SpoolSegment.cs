namespace MdvGateway.Gateway.Auditing;

/// <summary>One closed spool file, as <see cref="AuditSpool.TakeOldest"/> hands it out for replay.</summary>
/// <param name="Sequence">Its number; lower is older.</param>
/// <param name="Path">Its full path.</param>
/// <param name="Size">Its size as the spool accounts for it.</param>
internal sealed record SpoolSegment(long Sequence, string Path, long Size);
