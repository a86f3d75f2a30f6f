# An uncaught exception: traceback on stderr, exit code 1.
print("before")
def fail(n):
    if n == 0:
        raise KeyError("deliberate")
    fail(n - 1)
fail(3)
