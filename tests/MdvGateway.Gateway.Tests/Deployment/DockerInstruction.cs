namespace MdvGateway.Gateway.Tests.Deployment;

/// <summary>One Dockerfile instruction: its keyword in upper case and the rest of its (joined) line.</summary>
internal sealed record DockerInstruction(string Keyword, string Arguments);
