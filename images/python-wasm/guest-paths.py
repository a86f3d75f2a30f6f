"""Rewrites every code object's file name in the stdlib zip to the path the guest sees.

`make wasm_stdlib` compiles the stdlib with zipfile.PyZipFile, which records the build machine's source
path (/work/.../build/src/python3.11-3.11.2/Lib/os.py) in each code object; every traceback through the
stdlib then printed it. This is what `compileall -d <dir>` does for a folder, applied to the zip: each
code object, nested ones included, is named <prefix>/<module path>.py, which is also the module's
__file__ inside the guest (zipimport reports /usr/local/lib/python311.zip/os.py). Entries keep their
order, timestamps and compression, so the zip stays reproducible. The build folder, which
_sysconfigdata records in its build variables (srcdir, CFLAGS, ...), becomes /usr/local/src.

Usage: python3.11 guest-paths.py <in.zip> <out.zip> <prefix> <build folder>
Must run under the same Python minor version as the one that compiled the zip (marshal format).
"""
import marshal
import sys
import types
import zipfile

PYC_HEADER = 16  # magic, flags, and mtime+size or hash (PEP 552)


BUILD_STAND_IN = "/usr/local/src"


def renamed(code: types.CodeType, name: str, build: str) -> types.CodeType:
    def const(c):
        if isinstance(c, types.CodeType):
            return renamed(c, name, build)
        if isinstance(c, str):
            return c.replace(build, BUILD_STAND_IN)
        if isinstance(c, tuple):
            return tuple(const(x) for x in c)
        return c

    return code.replace(co_filename=name, co_consts=tuple(const(c) for c in code.co_consts))


def main() -> None:
    source, target, prefix, build = sys.argv[1:]
    with zipfile.ZipFile(source) as zin, zipfile.ZipFile(target, "w") as zout:
        for info in zin.infolist():
            data = zin.read(info)
            if info.filename.endswith(".pyc"):
                code = marshal.loads(data[PYC_HEADER:])
                data = data[:PYC_HEADER] + marshal.dumps(renamed(code, f"{prefix}/{info.filename[:-1]}", build))
            zout.writestr(info, data)


if __name__ == "__main__":
    main()
