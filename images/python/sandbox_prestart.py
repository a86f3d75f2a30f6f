"""Runs a Python program the way `python3 main.py` does, from an interpreter started before the program existed.

The profile's `prestart` command is `python3 <flags> -c "import sandbox_prestart; sandbox_prestart.main()" main.py`.
sandbox-entry starts it with `--prestart` as soon as the container starts, so the interpreter's start-up (about 12 ms
of CPU here) is paid while a warm container waits, not on the run's clock; it blocks on descriptor 3 until the entry
has written the program's files and hands over with one byte. Started without that descriptor, it refuses to run.

What the program sees is what `python3 main.py` gives it: `__main__` with `__file__` the script's absolute path,
`sys.argv == ['main.py', ...]`, `sys.path[0]` the script's folder, tracebacks that start at the script (the frames of
this module are cut), a syntax error shown without a traceback, exit status 1 after an uncaught exception and the
SIGINT death after an uncaught KeyboardInterrupt. It also sees `sandbox_prestart` in `sys.modules`, and `sys.orig_argv`
names this command.
"""

import os
import sys


def _wait_for_files():
    try:
        go = os.read(3, 1)
    except OSError:
        # Fail closed: without the entry's descriptor nothing says the files are in place.
        sys.stderr.write("sandbox_prestart: descriptor 3 is missing; only sandbox-entry --prestart starts this\n")
        os._exit(125)
    os.close(3)
    if go != b"g":
        # The entry died before handing over: the files may be missing or half written, so nothing must run.
        os._exit(125)


def _run(path):
    import builtins
    from importlib.machinery import SourceFileLoader

    main = sys.modules["__main__"]
    names = main.__dict__
    names.clear()
    names.update(
        __name__="__main__",
        __doc__=None,
        __package__=None,
        __loader__=SourceFileLoader("__main__", path),
        __spec__=None,
        __annotations__={},
        __builtins__=builtins,
        __file__=path,
        __cached__=None,
    )
    with open(path, "rb") as source:
        code = compile(source.read(), path, "exec", dont_inherit=True)
    exec(code, names)


def main():
    _wait_for_files()
    script = sys.argv[1] if len(sys.argv) > 1 else "main.py"
    path = os.path.abspath(script)
    sys.argv[:] = sys.argv[1:] or [script]
    sys.path[0] = os.path.dirname(path)
    try:
        _run(path)
    except SystemExit:
        raise  # the interpreter reports it exactly as for a script
    except BaseException as error:
        # As the interpreter does for a script: the hook (the program may have replaced it) with the traceback from the
        # script's first frame on; a syntax error in the script itself has no frame of the script, so none is shown.
        trace = error.__traceback__
        while trace is not None and trace.tb_frame.f_code.co_filename != path:
            trace = trace.tb_next
        error.__traceback__ = trace
        sys.excepthook(type(error), error, trace)
        if isinstance(error, KeyboardInterrupt):
            import atexit
            import signal

            atexit._run_exitfuncs()
            sys.stdout.flush()
            sys.stderr.flush()
            signal.signal(signal.SIGINT, signal.SIG_DFL)
            os.kill(os.getpid(), signal.SIGINT)
        raise SystemExit(1) from None
