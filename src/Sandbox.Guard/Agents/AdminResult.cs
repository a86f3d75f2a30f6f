using Sandbox.Core.Runs;

namespace Sandbox.Guard.Agents;

/// <summary>Why an operator's action did not happen; the CLI and the admin API map these to exit codes and HTTP statuses.</summary>
public enum AdminFailure
{
    None,

    /// <summary>Bad input; <see cref="AdminResult{T}.Errors"/> names each field.</summary>
    Invalid,

    /// <summary>No such agent or approval.</summary>
    NotFound,

    /// <summary>The action cannot apply in the current state: a name taken, an agent already revoked, an approval already decided.</summary>
    Conflict,
}

/// <summary>The outcome of an operator's action: the value, or why not.</summary>
#pragma warning disable CA1000 // Factory methods on the result type read best at the call site: AdminResult<Agent>.NotFound(...).
public sealed record AdminResult<T>(T? Value, AdminFailure Failure, string? Message, IReadOnlyList<FieldError>? Errors = null)
    where T : class
{
    public bool Ok => Failure == AdminFailure.None;

    public static AdminResult<T> Success(T value) => new(value, AdminFailure.None, null);

    public static AdminResult<T> Invalid(IReadOnlyList<FieldError> errors) =>
        new(null, AdminFailure.Invalid, string.Join("; ", errors.Select(e => e.ToString())), errors);

    public static AdminResult<T> NotFound(string message) => new(null, AdminFailure.NotFound, message);

    public static AdminResult<T> Conflict(string message) => new(null, AdminFailure.Conflict, message);
}
#pragma warning restore CA1000
