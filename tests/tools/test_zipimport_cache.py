"""tools/zipimport_cache.py, the development venv's compile cache for AnsiballZ payloads: a module imported from a
zip is compiled once and loaded from the cache after that, with the zip's path in its tracebacks; a changed
source is compiled afresh. Each import runs in a fresh interpreter, as each Ansible module task does."""

import os
import subprocess
import sys
import zipfile
from pathlib import Path

TOOL = Path(__file__).resolve().parents[2] / "tools" / "zipimport_cache.py"

MODULE = '''
def fail():
    raise RuntimeError("from the zip")


def nested():
    def inner():
        return inner.__code__.co_filename
    return inner()


ANSWER = %d
'''

RUN = '''
import runpy, sys, traceback
runpy.run_path(sys.argv[1])  # installs the cache, as the venv's .pth line does
sys.path.insert(0, sys.argv[2])
import payload
print(payload.ANSWER)
print(payload.nested())
try:
    payload.fail()
except RuntimeError:
    print([line.strip() for line in traceback.format_exc().splitlines() if line.strip().endswith("in fail")][0])
'''


def run(tmp_path, zip_path):
    done = subprocess.run([sys.executable, "-c", RUN, str(TOOL), str(zip_path)], capture_output=True, text=True, check=True,
                          env=dict(os.environ, IPS_ZIPIMPORT_CACHE_DIR=str(tmp_path / "cache")))
    return done.stdout.splitlines()


def make_zip(path, answer):
    with zipfile.ZipFile(str(path), "w") as archive:
        archive.writestr("payload.py", MODULE % answer)


def test_compiled_once_then_loaded_with_the_zips_own_path(tmp_path):
    first_zip, second_zip = tmp_path / "a" / "one.zip", tmp_path / "b" / "two.zip"
    for path in (first_zip, second_zip):
        path.parent.mkdir()
        make_zip(path, 42)
    first = run(tmp_path, first_zip)
    cached = sorted(p.name for p in (tmp_path / "cache").iterdir())
    assert len(cached) == 1 and not cached[0].endswith(".tmp")
    second = run(tmp_path, second_zip)  # the same source in another zip: from the cache
    assert sorted(p.name for p in (tmp_path / "cache").iterdir()) == cached
    assert first[0] == second[0] == "42"
    assert first[1] == str(first_zip / "payload.py") and second[1] == str(second_zip / "payload.py")  # nested code renamed too
    assert str(second_zip / "payload.py") in second[2] and "line 3, in fail" in second[2]  # the traceback names the zip it ran from


def test_a_changed_source_is_compiled_again(tmp_path):
    path = tmp_path / "p.zip"
    make_zip(path, 1)
    assert run(tmp_path, path)[0] == "1"
    make_zip(path, 2)
    assert run(tmp_path, path)[0] == "2"
    assert len(list((tmp_path / "cache").iterdir())) == 2


def test_an_unusable_cache_falls_back_to_compiling(tmp_path):
    path = tmp_path / "p.zip"
    make_zip(path, 7)
    run(tmp_path, path)
    for entry in (tmp_path / "cache").iterdir():
        entry.write_bytes(b"not marshal data")
    assert run(tmp_path, path)[0] == "7"
