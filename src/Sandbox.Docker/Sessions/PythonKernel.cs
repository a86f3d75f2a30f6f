namespace Sandbox.Docker.Sessions;

/// <summary>
/// The Python session kernel: sent as the profile's source file through the usual file payload, so the image needs no
/// change. It reads cells as frames from stdin (<see cref="CellFrame"/>), runs each in one namespace, and ends each with a
/// marker on stderr then stdout (<see cref="CellMarker"/>). Like IPython, a last expression's value is printed.
/// </summary>
internal static class PythonKernel
{
    public const string Source = """
        import ast, io, json, os, shutil, sys, tarfile, traceback

        OUTPUTS = "/tmp/outputs"


        def _hand_out(nonce):
            # As the run's outputs step (OutputsCommand): figures still open are saved first; then, if the folder holds
            # anything, a marker and a GNU tar of it (links kept as links, never followed, names sorted) go to stdout ahead
            # of the cell's end marker, and the folder is emptied: each file comes back with the cell that left it.
            backend = sys.modules.get("sandbox_matplotlib")
            if backend is not None:
                backend.save_open_figures()
            try:
                top = sorted(os.listdir(OUTPUTS))
            except OSError:
                return
            if not top:
                return
            out = open(1, "wb", closefd=False)
            out.write(b"\x1eSANDBOX-OUTPUTS " + nonce.encode("ascii") + b"\n")
            out.flush()
            with tarfile.open(fileobj=out, mode="w|", format=tarfile.GNU_FORMAT) as tar:
                for folder, dirs, files in os.walk(OUTPUTS):
                    dirs.sort()
                    for name in sorted(dirs + files):
                        path = os.path.join(folder, name)
                        tar.add(path, arcname="./" + os.path.relpath(path, OUTPUTS), recursive=False)
            out.flush()
            for name in top:
                path = os.path.join(OUTPUTS, name)
                if os.path.isdir(path) and not os.path.islink(path):
                    shutil.rmtree(path, ignore_errors=True)
                else:
                    try:
                        os.unlink(path)
                    except OSError:
                        pass


        def _run(cell, namespace):
            for f in cell.get("files") or ():
                # Paths were validated on the host (relative, no '..'); they land under /tmp whatever the cell's cwd is.
                path = os.path.join("/tmp", f["path"])
                folder = os.path.dirname(path)
                if folder:
                    os.makedirs(folder, exist_ok=True)
                with open(path, "w", encoding="utf-8") as out:
                    out.write(f["content"])
            sys.stdin = io.StringIO(cell.get("stdin") or "")
            try:
                tree = ast.parse(cell["code"], "<cell>", "exec")
                last = None
                if tree.body and isinstance(tree.body[-1], ast.Expr):
                    last = ast.Expression(tree.body.pop().value)
                exec(compile(tree, "<cell>", "exec"), namespace)
                if last is not None:
                    value = eval(compile(last, "<cell>", "eval"), namespace)
                    if value is not None:
                        print(repr(value))
                return 0
            except SystemExit as e:
                if e.code is None:
                    return 0
                if isinstance(e.code, int):
                    return e.code & 0xFF
                print(e.code, file=sys.stderr)
                return 1
            except BaseException as e:
                # The kernel's own frame is not the program's business.
                traceback.print_exception(type(e), e, e.__traceback__.tb_next if e.__traceback__ else None)
                return 1


        def _main():
            try:
                os.unlink(os.path.abspath(sys.argv[0]))
            except OSError:
                pass
            os.makedirs(OUTPUTS, exist_ok=True)
            frames = sys.stdin.buffer
            namespace = {"__name__": "__main__", "__builtins__": __builtins__}
            while True:
                header = frames.readline()
                if not header:
                    return
                parts = header.split()
                if len(parts) != 2 or parts[0] != b"CELL" or not parts[1].isdigit():
                    os.write(2, b"sandbox-kernel: bad frame header\n")
                    os._exit(125)
                cell = json.loads(frames.read(int(parts[1])))
                marker = b"\x00SBX-END " + cell["nonce"].encode("ascii") + b" "
                code = _run(cell, namespace)
                for stream in (sys.stdout, sys.stderr):
                    try:
                        stream.flush()
                    except Exception:
                        pass
                if cell.get("outputs"):
                    try:
                        _hand_out(cell["nonce"])
                    except Exception as e:
                        print("sandbox-kernel: the files in /tmp/outputs were not handed out: %s" % e, file=sys.stderr)
                        sys.stderr.flush()
                os.write(2, marker + b"0\n")
                os.write(1, marker + str(code).encode("ascii") + b"\n")


        _main()

        """;
}
