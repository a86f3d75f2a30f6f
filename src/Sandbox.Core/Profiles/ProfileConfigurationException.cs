using Sandbox.Core.Errors;
using Sandbox.Core.Runs;

namespace Sandbox.Core.Profiles;

/// <summary>The profiles file is invalid. Start-up stops with every error listed; nothing is half-applied.</summary>
public sealed class ProfileConfigurationException : SandboxException
{
    public ProfileConfigurationException(IReadOnlyList<FieldError> errors)
        : base(BuildMessage(errors)) => Errors = errors;

    public IReadOnlyList<FieldError> Errors { get; }

    private static string BuildMessage(IReadOnlyList<FieldError> errors) =>
        $"the profiles are invalid ({errors.Count} error{(errors.Count == 1 ? "" : "s")}):"
        + string.Concat(errors.Select(e => "\n  - " + e));
}
