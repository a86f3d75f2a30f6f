using System.Text.Json;
using Sandbox.Core.Runs;
using Sandbox.Core.Serialization;

namespace Sandbox.Core.Profiles;

/// <summary>One package preinstalled in a profile's image, as the image itself reported it when it was built.</summary>
/// <param name="Name">The package's name as a program imports or calls it (such as <c>numpy</c> or <c>jq</c>).</param>
/// <param name="Version">Its version string.</param>
public sealed record PackageInfo(string Name, string Version);

/// <summary>
/// The list <c>images/build.sh</c> writes beside a profile (<c>build/packages.json</c>) after building its image, by
/// running the image's own <c>packages.sh</c> inside the image with the run's hardening: what is there, not what a
/// Dockerfile meant to install.
/// </summary>
/// <param name="Image">The image the list was taken from; it applies to the profiles that run that image.</param>
/// <param name="Packages">The packages, sorted by name.</param>
public sealed record InstalledPackages(string Image, IReadOnlyList<PackageInfo> Packages)
{
    /// <summary>Where the list sits, relative to the folder of the profile file.</summary>
    public const string RelativePath = "build/packages.json";

    /// <summary>Most packages one list may name (an image is not expected to come near it; the cap keeps a broken list from bloating every tool description).</summary>
    public const int MaxPackages = 500;

    /// <summary>
    /// Reads the list beside a profile file, or null when there is none (a profile without an image, or an image
    /// built before lists existed). A list that is there but unreadable is an error naming the file: the build
    /// wrote it, so a broken one means a broken build.
    /// </summary>
    public static InstalledPackages? TryLoad(string profileDirectory, List<FieldError> errors)
    {
        var path = Path.Join(profileDirectory, RelativePath);
        if (!File.Exists(path))
        {
            return null;
        }

        try
        {
            var list = JsonSerializer.Deserialize(File.ReadAllText(path), ProfilesJsonContext.Default.InstalledPackages);
            if (list is null || string.IsNullOrEmpty(list.Image) || list.Packages is null)
            {
                errors.Add(new FieldError(path, "is not a package list ({\"image\": ..., \"packages\": [...]})"));
                return null;
            }

            if (list.Packages.Count > MaxPackages || list.Packages.Any(p => string.IsNullOrWhiteSpace(p?.Name) || p.Version is null))
            {
                errors.Add(new FieldError(path, $"names more than {MaxPackages} packages or a package without a name or version"));
                return null;
            }

            return list with { Packages = [.. list.Packages.OrderBy(p => p.Name, StringComparer.OrdinalIgnoreCase)] };
        }
        catch (Exception ex) when (ex is IOException or JsonException or UnauthorizedAccessException)
        {
            errors.Add(new FieldError(path, "cannot be read as a package list: " + ex.Message));
            return null;
        }
    }
}
