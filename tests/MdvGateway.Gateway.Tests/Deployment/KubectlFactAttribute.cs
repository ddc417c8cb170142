namespace MdvGateway.Gateway.Tests.Deployment;

/// <summary>A fact that needs the kubectl client; skipped, saying why, on a machine without it.</summary>
[AttributeUsage(AttributeTargets.Method)]
public sealed class KubectlFactAttribute : FactAttribute
{
    public KubectlFactAttribute()
    {
        if (Kubectl.Path is null)
        {
            Skip = "kubectl is not on PATH: install the kubectl client to render deploy/kubernetes with kustomize";
        }
    }
}
