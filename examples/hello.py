import platform, sys
import numpy as np
print(f"hello from Python {platform.python_version()} in the sandbox")
print("numpy says", np.arange(5).sum())
