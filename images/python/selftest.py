# Self-test of the python image: the interpreter, numpy, pandas and a headless matplotlib savefig.
import os
import stat
import sys

import matplotlib
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

print("python", sys.version_info >= (3, 11))
a = np.arange(12, dtype=np.int64).reshape(3, 4)
print("numpy", int(a.sum()), a.T.shape, round(float(np.linalg.det(np.array([[2.0, 1.0], [1.0, 3.0]]))), 6))
df = pd.DataFrame({"k": ["a", "b", "a"], "v": [1, 2, 3]})
print("pandas", df.groupby("k")["v"].sum().to_dict())
fig, ax = plt.subplots(figsize=(2, 2))
ax.plot([0, 1, 2], [0, 1, 4])
fig.savefig("/tmp/plot.png")
with open("/tmp/plot.png", "rb") as f:
    print("matplotlib", matplotlib.get_backend().lower(), f.read(8) == b"\x89PNG\r\n\x1a\n")
print("cwd", os.getcwd(), "uid", os.getuid())
print("unicode", "h\u00e9llo \u2713")
# No setuid or setgid program where programs live (the Dockerfile strips them; selftest.sh checks the whole image).
setid = 0
for top in ["/usr/bin", "/usr/sbin", "/usr/libexec", "/usr/local", "/opt"]:
    for root, _, names in os.walk(top):
        setid += sum(1 for n in names if os.lstat(os.path.join(root, n)).st_mode & (stat.S_ISUID | stat.S_ISGID))
print("setid", setid)
