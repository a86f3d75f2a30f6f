namespace Sandbox.Core.Runs;

/// <summary>One problem with an input, naming the field path (<c>files[2].path</c>) and what to do about it.</summary>
public sealed record FieldError(string Field, string Message)
{
    public override string ToString() => $"{Field}: {Message}";
}
