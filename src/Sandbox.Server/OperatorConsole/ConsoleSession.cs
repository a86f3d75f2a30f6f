namespace Sandbox.Server.OperatorConsole;

/// <summary>One signed-in operator: the cookie's secret (never stored, only its hash keys the table), the CSRF token of every form, the name recorded with decisions.</summary>
internal sealed record ConsoleSession(string Key, string CsrfToken, string Operator, DateTimeOffset ExpiresAt);
