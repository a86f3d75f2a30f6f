# Self-test of the python image: the interpreter, numpy, pandas and a headless matplotlib savefig.
import sys

# Start-up, which every run pays (images/python/Dockerfile): the mpl_toolkits module matplotlib's .pth file makes is there
# before any import, made without importlib.util; looked at before this file imports anything else.
startup = ("mpl_toolkits" in sys.modules, "importlib.util" in sys.modules)

import os
import stat

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
from mpl_toolkits.mplot3d import Axes3D
import sandbox_prestart

# Our modules load compiled in the image (no run may write bytecode).
print("startup", startup, Axes3D.name, os.path.exists(sandbox_prestart.__cached__))
print("cwd", os.getcwd(), "uid", os.getuid())
print("unicode", "h\u00e9llo \u2713")
# No setuid or setgid program where programs live (the Dockerfile strips them; selftest.sh checks the whole image).
setid = 0
for top in ["/usr/bin", "/usr/sbin", "/usr/libexec", "/usr/local", "/opt"]:
    for root, _, names in os.walk(top):
        setid += sum(1 for n in names if os.lstat(os.path.join(root, n)).st_mode & (stat.S_ISUID | stat.S_ISGID))
print("setid", setid)
