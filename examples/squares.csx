var squares = Enumerable.Range(1, 5).Select(i => i * i);
Console.WriteLine(string.Join(" ", squares));
