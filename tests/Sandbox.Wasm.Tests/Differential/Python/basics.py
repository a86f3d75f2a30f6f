# Core language: ints of any size, floats, strings, comprehensions, classes, exceptions, generators.
import math
print(1 + 1, 2 ** 100, 7 // -2, -7 % 3, 10 / 4, round(2.675, 2), math.pi)
words = "the quick brown fox jumps over the lazy dog".split()
print(sorted(words, key=lambda w: (len(w), w)), {w: len(w) for w in words[:3]})
class Account:
    def __init__(self, owner, balance=0):
        self.owner, self.balance = owner, balance
    def withdraw(self, amount):
        if amount > self.balance:
            raise ValueError(f"{self.owner}: insufficient funds ({self.balance} < {amount})")
        self.balance -= amount
        return self
try:
    Account("ada", 10).withdraw(3).withdraw(20)
except ValueError as e:
    print("error:", e)
def gen(n):
    yield from (i * i for i in range(n) if i % 3)
print(list(gen(12)), sum(gen(1000)), f"{12345.6789:,.2f} {255:#x} {0.5:%} {'x':>4}|")
print(bytes(range(5)).hex(), "Grüße".encode(), "ß".upper(), divmod(-17, 5), int("zz", 36))
