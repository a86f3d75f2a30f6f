namespace Sandbox.Core.Errors;

/// <summary>
/// Base of our small hierarchy for broken infrastructure and misuse. Expected outcomes of a program
/// (timeouts, limit kills, crashes) are <see cref="Runs.RunResult"/> values, never exceptions.
/// </summary>
public abstract class SandboxException : Exception
{
    protected SandboxException(string message, Exception? inner = null) : base(message, inner)
    {
    }

    /// <summary>True when the same call may succeed if tried again later. Retry predicates test this, never the message.</summary>
    public virtual bool IsTransient => false;
}

/// <summary>The sandbox's own infrastructure failed (a daemon is down, an image is missing). Maps to <c>sandbox_error</c>.</summary>
public class SandboxInfrastructureException : SandboxException
{
    public SandboxInfrastructureException(string message, Exception? inner = null, bool isTransient = false)
        : base(message, inner) => Transient = isTransient;

    private bool Transient { get; }

    /// <summary>
    /// What the run's caller is told in the <c>sandbox_error</c> result. <see cref="Exception.Message"/> is for the
    /// operator's log and may name daemons, images and host paths; this must not.
    /// </summary>
    public virtual string ResultMessage => Message;

    public override bool IsTransient => Transient;
}
