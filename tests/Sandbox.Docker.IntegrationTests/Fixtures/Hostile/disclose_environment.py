# Attack: read the host's environment (keys, tokens). Only the profile's allow-listed variables exist.
# @expect ok
# @stdout BLOCKED
import os
# No shell stands between sandbox-entry and Python any more, so not even PWD and OLDPWD are set.
allowed = {"HOME", "LANG", "LC_ALL", "PATH", "PYTHONDONTWRITEBYTECODE", "PYTHONUNBUFFERED", "PYTHONIOENCODING", "MPLBACKEND", "MPLCONFIGDIR", "TMPDIR", "HOSTNAME", "OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "PYTHONHASHSEED"}
extra = sorted(set(os.environ) - allowed)
print("LEAKED " + ",".join(extra) if extra else "BLOCKED")
