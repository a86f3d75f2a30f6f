using Sandbox.Core.Artifacts;

namespace Sandbox.Core.Tests.Artifacts;

public sealed class MediaTypesTests
{
    [Theory]
    [InlineData("plot.txt", new byte[] { 0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0 }, MediaTypes.Png)]
    [InlineData("photo", new byte[] { 0xFF, 0xD8, 0xFF, 0xE0 }, MediaTypes.Jpeg)]
    [InlineData("a.gif", new byte[] { (byte)'G', (byte)'I', (byte)'F', (byte)'8', (byte)'9', (byte)'a' }, MediaTypes.Gif)]
    [InlineData("table.csv", new byte[] { (byte)'a', (byte)',', (byte)'b', (byte)'\n' }, MediaTypes.Csv)]
    [InlineData("data.json", new byte[] { (byte)'{', (byte)'}' }, MediaTypes.Json)]
    [InlineData("notes", new byte[] { (byte)'h', (byte)'i', (byte)'\t', (byte)'\n' }, MediaTypes.PlainText)]
    [InlineData("table.csv", new byte[] { 0, 1, 2 }, MediaTypes.OctetStream)]
    [InlineData("bad.txt", new byte[] { 0xC3, 0x28 }, MediaTypes.OctetStream)]
    public void Sniff_Bytes_DecideTheType(string path, byte[] content, string expected) =>
        MediaTypes.Sniff(path, content).ShouldBe(expected);

    [Theory]
    [InlineData("page.html", "hello")]
    [InlineData("image.svg", "<svg onload=alert(1)>")]
    [InlineData("notes.txt", "  <script>alert(1)</script>")]
    [InlineData("table.csv", "\uFEFF<html>")]
    [InlineData("x.JS", "alert(1)")]
    public void Sniff_MarkupOrActiveName_IsNeverRenderable(string path, string text) =>
        MediaTypes.Sniff(path, System.Text.Encoding.UTF8.GetBytes(text)).ShouldBe(MediaTypes.OctetStream);
}
