using System.Text.Json;
using Sandbox.Core.Runs;
using Sandbox.Core.Serialization;

namespace Sandbox.Core.Profiles;

/// <summary>
/// Reads profiles from a JSON file, or from every <c>*.json</c> file and every <c>*/profile.json</c> in a folder, and validates them as one set.
/// Any error stops loading with the full list: a bad file is never half-applied.
/// </summary>
public static class ProfileLoader
{
    /// <summary>Loads and validates; throws <see cref="ProfileConfigurationException"/> listing every error.</summary>
    public static ProfileSet Load(string path)
    {
        if (Directory.Exists(path))
        {
            // A folder holds profiles files, or one folder per profile with its profile.json (and its guest files) inside.
            var files = Directory.EnumerateFiles(path, "*.json")
                .Concat(Directory.EnumerateDirectories(path).Select(d => Path.Join(d, "profile.json")).Where(File.Exists))
                .Order(StringComparer.Ordinal);
            return LoadFiles([.. files], path);
        }

        if (File.Exists(path))
        {
            return LoadFiles([path], path);
        }

        throw new ProfileConfigurationException([new FieldError(path, "no such profiles file or folder")]);
    }

    /// <summary>Loads every file named <paramref name="fileName"/> under <paramref name="root"/> (such as <c>images/*/profile.json</c>) as one set.</summary>
    public static ProfileSet LoadTree(string root, string fileName) =>
        LoadFiles([.. Directory.EnumerateFiles(root, fileName, SearchOption.AllDirectories).Order(StringComparer.Ordinal)], root);

    /// <summary>Loads several profiles files as one set; a name defined twice is an error.</summary>
    public static ProfileSet LoadFiles(IReadOnlyList<string> files, string description)
    {
        var errors = new List<FieldError>();
        var merged = new Dictionary<string, Profile>(StringComparer.Ordinal);
        var origin = new Dictionary<string, string>(StringComparer.Ordinal);

        foreach (var file in files)
        {
            var document = Parse(file, errors);
            var directory = Path.GetDirectoryName(Path.GetFullPath(file)) ?? "";
            var installed = document is null ? null : InstalledPackages.TryLoad(directory, errors);
            foreach (var (name, profile) in document?.Profiles ?? [])
            {
                if (origin.TryGetValue(name, out var first))
                {
                    errors.Add(new FieldError($"profiles.{name}", $"is defined in both {Path.GetFileName(first)} and {Path.GetFileName(file)}"));
                    continue;
                }

                origin[name] = file;
                merged[name] = profile with
                {
                    BaseDirectory = directory,
                    // A list applies only to the image it was taken from: a profile beside it that runs another image gets none.
                    Packages = installed is not null && string.Equals(installed.Image, profile.Image, StringComparison.Ordinal) ? installed.Packages : null,
                };
            }
        }

        if (origin.Count == 0 && errors.Count == 0)
        {
            errors.Add(new FieldError(description, "holds no profiles"));
        }

        if (errors.Count > 0)
        {
            throw new ProfileConfigurationException(errors);
        }

        return ProfileSet.Create(merged);
    }

    /// <summary>Parses one profiles document from text, for tests and for <c>profiles validate</c>.</summary>
    public static ProfileSet Parse(string json, string source)
    {
        var errors = new List<FieldError>();
        var document = ParseText(json, source, errors);
        if (errors.Count > 0 || document is null)
        {
            throw new ProfileConfigurationException(errors.Count > 0 ? errors : [new FieldError(source, "is empty")]);
        }

        return ProfileSet.Create(document.Profiles);
    }

    private static ProfilesDocument? Parse(string file, List<FieldError> errors)
    {
        string text;
        try
        {
            text = File.ReadAllText(file);
        }
        catch (IOException ex)
        {
            errors.Add(new FieldError(file, "cannot be read: " + ex.Message));
            return null;
        }

        return ParseText(text, Path.GetFileName(file), errors);
    }

    private static ProfilesDocument? ParseText(string text, string source, List<FieldError> errors)
    {
        try
        {
            var document = JsonSerializer.Deserialize(text, ProfilesJsonContext.Default.ProfilesDocument);
            if (document is null)
            {
                errors.Add(new FieldError(source, "is empty"));
            }

            return document;
        }
        catch (JsonException ex)
        {
            // The serializer stops at the first problem; it names the JSON path and line, which is what an operator needs.
            var where = ex.Path is { Length: > 0 } p ? p.TrimStart('$', '.') : "(document)";
            var line = ex.LineNumber is { } l ? $" (line {l + 1})" : "";
            errors.Add(new FieldError($"{source}: {where}{line}", FirstSentence(ex.Message)));
            return null;
        }
    }

    private static string FirstSentence(string message)
    {
        var cut = message.IndexOf(" Path:", StringComparison.Ordinal);
        return cut > 0 ? message[..cut] : message;
    }
}
