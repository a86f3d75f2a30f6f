using System.Security.Cryptography;
using System.Text;

namespace Sandbox.Guard.Agents;

/// <summary>
/// The shape of keys: <c>sbxa_&lt;id&gt;_&lt;secret&gt;</c> for an agent's key and <c>sbxt_&lt;id&gt;_&lt;secret&gt;</c>
/// for a task token. The prefix lets secret scanners and people recognise a leaked key; the id
/// (12 hex) finds the stored record without scanning; the secret is 32 random bytes (64 hex).
/// Only SHA-256 of the secret is stored: with 256 bits of entropy a fast hash cannot be brute-forced,
/// so no slow password hash is needed on the request path.
/// </summary>
public static class AgentKeys
{
    public const string AgentKeyPrefix = "sbxa_";
    public const string TaskTokenPrefix = "sbxt_";
    private const int IdHexLength = 12;
    private const int SecretHexLength = 64;

    /// <summary>A new key (or token) and the record to store for it; the plain key is shown once and never kept.</summary>
    public static (string PlainKey, string Id, string SecretSha256) Generate(CredentialKind kind)
    {
        var id = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(IdHexLength / 2));
        var secret = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(SecretHexLength / 2));
        var prefix = kind == CredentialKind.AgentKey ? AgentKeyPrefix : TaskTokenPrefix;
        return (prefix + id + "_" + secret, id, HashSecret(secret));
    }

    /// <summary>A new id with a prefix, such as <c>agt_</c> or <c>apr_</c>: 16 random hex characters.</summary>
    public static string NewId(string prefix) => prefix + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(8));

    public static string HashSecret(string secret) => Convert.ToHexStringLower(SHA256.HashData(Encoding.ASCII.GetBytes(secret)));

    /// <summary>Splits a presented key; a problem (what is wrong with its shape) when it is not one of ours.</summary>
    public static ParsedKey? TryParse(string presented, out string? problem)
    {
        problem = null;
        CredentialKind kind;
        if (presented.StartsWith(AgentKeyPrefix, StringComparison.Ordinal))
        {
            kind = CredentialKind.AgentKey;
        }
        else if (presented.StartsWith(TaskTokenPrefix, StringComparison.Ordinal))
        {
            kind = CredentialKind.TaskToken;
        }
        else
        {
            problem = $"the key does not start with {AgentKeyPrefix} (an agent key) or {TaskTokenPrefix} (a task token)";
            return null;
        }

        var rest = presented.AsSpan(AgentKeyPrefix.Length);
        if (rest.Length != IdHexLength + 1 + SecretHexLength || rest[IdHexLength] != '_'
            || !IsLowerHex(rest[..IdHexLength]) || !IsLowerHex(rest[(IdHexLength + 1)..]))
        {
            problem = $"the key is malformed: expected the prefix, {IdHexLength} hex characters, '_' and {SecretHexLength} hex characters";
            return null;
        }

        return new ParsedKey(kind, rest[..IdHexLength].ToString(), rest[(IdHexLength + 1)..].ToString());
    }

    /// <summary>Compares the presented secret with a stored hash in constant time.</summary>
    public static bool Matches(ParsedKey key, Credential stored) =>
        CryptographicOperations.FixedTimeEquals(
            Encoding.ASCII.GetBytes(HashSecret(key.Secret)),
            Encoding.ASCII.GetBytes(stored.SecretSha256));

    private static bool IsLowerHex(ReadOnlySpan<char> s)
    {
        foreach (var c in s)
        {
            if (c is not ((>= '0' and <= '9') or (>= 'a' and <= 'f')))
            {
                return false;
            }
        }

        return true;
    }
}

/// <summary>A presented key split into its parts.</summary>
public sealed record ParsedKey(CredentialKind Kind, string Id, string Secret);
