// Self-test of the csharp image: the runner, default imports, LINQ, async and files in /tmp.
var numbers = new List<int> { 5, 3, 8, 1 };
Console.WriteLine($"linq {string.Join(",", numbers.OrderBy(n => n))} sum={numbers.Sum()}");
var sb = new StringBuilder();
foreach (var word in "the quick brown fox".Split(' ').Where(w => w.Length > 3))
{
    sb.Append(word.ToUpperInvariant()).Append(' ');
}
Console.WriteLine($"text {sb.ToString().TrimEnd()}");
await Task.Delay(10);
var results = await Task.WhenAll(Enumerable.Range(1, 4).Select(i => Task.Run(() => i * i)));
Console.WriteLine($"tasks {results.Sum()}");
File.WriteAllText("/tmp/out.txt", "written");
Console.WriteLine($"file {File.ReadAllText("/tmp/out.txt")} {Directory.GetCurrentDirectory()}");
record Point(int X, int Y);
Console.WriteLine($"record {new Point(1, 2)}");
Console.WriteLine("unicode h\u00e9llo \u2713");
// No setuid or setgid program where programs live (the Dockerfile strips them; selftest.sh checks the whole image).
var walk = new EnumerationOptions { RecurseSubdirectories = true, IgnoreInaccessible = true, AttributesToSkip = FileAttributes.ReparsePoint };
var setid = new[] { "/usr/bin", "/usr/sbin", "/usr/libexec", "/usr/local", "/opt" }
    .Where(Directory.Exists)
    .SelectMany(d => Directory.EnumerateFiles(d, "*", walk))
    .Count(f => (File.GetUnixFileMode(f) & (UnixFileMode.SetUser | UnixFileMode.SetGroup)) != 0);
Console.WriteLine($"setid {setid}");
numbers.Count
