"""A compile cache for code imported from zip files, installed into the development virtualenv only
(tools/setup-venv.sh adds it with a .pth line; nothing of it ships).

Why: Ansible runs every module task as an AnsiballZ payload, a zip of .py files on sys.path. zipimport
compiles them from source on every run, because the zip holds no bytecode: each task compiles
ansible.module_utils.basic and the collection's module_utils again, about 0.15 CPU-seconds of the
0.3 a module task costs. The tests run thousands of module tasks on two cores, so this is most of
what the suite spends that is not the work under test.

How: zipimport's own compile step is wrapped. Code is cached under the venv, keyed by the source's
SHA-256, Python's bytecode magic number and the optimisation level, so a changed source is compiled
afresh and nothing stale is ever run. A cached code object gets the importing path back as its file
name (and its nested functions' too), so tracebacks and warnings read as without the cache. Any
problem with the cache falls back to compiling.
"""

import os
import sys
import zipimport

CACHE_DIR = os.environ.get("IPS_ZIPIMPORT_CACHE_DIR") or os.path.join(sys.prefix, ".zipimport-cache")
_compile_source = zipimport._compile_source  # pylint: disable=protected-access


def _renamed(code, filename):
    consts = tuple(_renamed(const, filename) if isinstance(const, type(code)) else const for const in code.co_consts)
    return code.replace(co_filename=filename, co_consts=consts)


def cached_compile_source(pathname, source):
    import hashlib
    import importlib.util
    import marshal

    key = hashlib.sha256(importlib.util.MAGIC_NUMBER + bytes([sys.flags.optimize]) + source).hexdigest()
    path = os.path.join(CACHE_DIR, key)
    try:
        with open(path, "rb") as cached:
            return _renamed(marshal.loads(cached.read()), pathname)
    except (OSError, ValueError, EOFError, TypeError):
        pass
    code = _compile_source(pathname, source)
    try:
        os.makedirs(CACHE_DIR, exist_ok=True)
        partial = "%s.%d.tmp" % (path, os.getpid())
        with open(partial, "wb") as out:
            out.write(marshal.dumps(code))
        os.replace(partial, path)  # whole or not at all, whatever runs beside it
    except OSError:
        pass
    return code


zipimport._compile_source = cached_compile_source  # pylint: disable=protected-access
