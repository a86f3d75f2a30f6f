namespace Sandbox.Core.Runs;

/// <summary>One problem with an input, naming the field path (<c>files[2].path</c>) and what to do about it.</summary>
/// <param name="Field">The field's path, such as <c>limits.wallTimeMs</c> or <c>files[0].path</c>.</param>
/// <param name="Message">What is wrong with it and what it should be.</param>
public sealed record FieldError(string Field, string Message)
{
    public override string ToString() => $"{Field}: {Message}";
}
