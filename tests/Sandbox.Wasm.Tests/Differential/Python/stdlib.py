# Pure-Python and built-in stdlib modules that load from python311.zip.
import collections, dataclasses, decimal, fractions, hashlib, itertools, json, re, statistics, textwrap, zlib
print(json.dumps({"b": [1, 2.5, None, True], "a": "é"}, sort_keys=True))
print(re.sub(r"(\w+)@(\w+)\.com", r"\2 at \1", "mail ada@example.com or bob@test.com"))
print(collections.Counter("mississippi").most_common(2), list(itertools.accumulate(range(6))))
print(decimal.Decimal("1.1") + decimal.Decimal("2.2"), fractions.Fraction(3, 4) ** 2, statistics.median([5, 1, 4, 2]))
print(hashlib.sha256(b"hello\n").hexdigest(), zlib.crc32(b"sandbox"), len(zlib.compress(b"a" * 10000)))
@dataclasses.dataclass(order=True)
class Point:
    x: int
    y: int = 0
print(sorted([Point(2, 1), Point(1, 5), Point(1, 2)]), textwrap.shorten("a b c d e f g h", width=9))
