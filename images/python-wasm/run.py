# The python-wasm profile's program runner, passed with -c (profile.json's command holds this file's text;
# GuestProfileTests checks the two match). It runs /tmp/main.py as `python /tmp/main.py` would, then ends the
# process with os._exit: CPython's own teardown (Py_FinalizeEx freeing every module and object) is about
# 20 M WebAssembly instructions, ten times a small program's run, and nothing of it is visible to the caller.
# Kept: argv, sys.path[0], __main__ and its names, tracebacks, SystemExit codes, atexit, flushed output.
# Lost: __del__ of objects alive at exit (CPython never promises them); the runner's own frame below <module>.
import sys
def _run(path):
    import atexit, builtins, os, _frozen_importlib_external
    main = type(sys)('__main__')
    main.__file__, main.__cached__, main.__builtins__, main.__annotations__ = path, None, builtins, {}
    main.__loader__ = _frozen_importlib_external.SourceFileLoader('__main__', path)
    sys.modules['__main__'] = main
    sys.argv[:] = [path]
    sys.path[0] = os.path.dirname(path)
    # The first compile() builds CPython's AST types (tens of ms): done here, in a warm worker before its run.
    compile('', path, 'exec')
    status = 0
    try:
        with open(path, 'rb') as source:
            code = compile(source.read(), path, 'exec')
        # A warm worker may be restored from a snapshot taken before that open: what start-up drew at random is shared
        # by every run of the snapshot, so a random module it imported is seeded again (from os.urandom, the run's own).
        if 'random' in sys.modules:
            sys.modules['random'].seed()
        exec(code, main.__dict__)
    except SystemExit as e:
        status = _status(e.code)
    except BaseException as e:
        e.__traceback__ = e.__traceback__.tb_next  # the runner's frame is not the program's
        sys.excepthook(type(e), e, e.__traceback__)
        status = 1
    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except Exception:
            status = 120
    os._exit(status)
def _status(code):
    # As CPython's handle_system_exit: None is 0, an int is itself, anything else is printed and is 1.
    if code is None:
        return 0
    if isinstance(code, int):
        return code if -2**31 <= code < 2**31 else -1
    print(code, file=sys.stderr)
    return 1
_run(sys.argv[1])
