"""The sandbox's matplotlib backend: Agg (no display), with figures handed back as PNG files.

The profile selects it with MPLBACKEND=module://sandbox_matplotlib. `plt.show()` saves every open figure to
/tmp/outputs/figure-N.png and closes it (as a window closing would); figures still open when the program exits are
saved then. The sandbox returns what is in /tmp/outputs with the run's result. N counts up over the run and an
existing file is never overwritten, so a figure saved by the program itself under that name stays as it was.
"""

import atexit
import os
import sys

from matplotlib import _pylab_helpers
from matplotlib.backend_bases import _Backend
from matplotlib.backends.backend_agg import _BackendAgg

OUTPUTS = "/tmp/outputs"
_saved = 0


def save_open_figures():
    """Saves each open figure as the next free figure-N.png under /tmp/outputs and closes it."""
    global _saved
    for manager in list(_pylab_helpers.Gcf.get_all_fig_managers()):
        try:
            os.makedirs(OUTPUTS, exist_ok=True)
            while True:
                _saved += 1
                path = os.path.join(OUTPUTS, "figure-%d.png" % _saved)
                if not os.path.lexists(path):
                    break
            manager.canvas.figure.savefig(path, format="png")
        except Exception as error:  # a figure that cannot be drawn must not hide the program's own result
            print("sandbox_matplotlib: figure %s was not saved: %s" % (manager.num, error), file=sys.stderr)
        finally:
            _pylab_helpers.Gcf.destroy(manager)


@_Backend.export
class _BackendSandbox(_BackendAgg):
    @staticmethod
    def show(*args, **kwargs):
        save_open_figures()


# Registered after matplotlib's own exit handler (imported above), so it runs first, while the figures are still open.
atexit.register(save_open_figures)
