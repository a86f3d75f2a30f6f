# A CPU-bound loop (the benchmark's Python kernel, smaller): integer arithmetic, a list and a dict.
def primes(n):
    sieve = [True] * n
    count = 0
    for i in range(2, n):
        if sieve[i]:
            count += 1
            for j in range(i * i, n, i):
                sieve[j] = False
    return count
total = 0
for i in range(20000):
    total = (total * 31 + i) % 1000003
squares = {i: i * i for i in range(2000)}
print(primes(20000), total, sum(squares.values()))
