"""A clean copy of the repository's files, as a fresh clone (plus uncommitted edits) holds them: what AWX checks
out for a project and what `ansible-galaxy collection build` should be given (no .venv, no lab run dirs)."""

import shutil
import subprocess
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def repo_copy(dest):
    """Copy the tracked and not-ignored files (git ls-files -co --exclude-standard) into `dest`; returns `dest`."""
    files = subprocess.run(["git", "ls-files", "-z", "-co", "--exclude-standard"], cwd=str(REPO), capture_output=True, check=True).stdout
    for name in files.decode().split("\0"):
        src = REPO / name
        if name and (src.is_file() or src.is_symlink()):
            (dest / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(str(src), str(dest / name), follow_symlinks=False)
    return dest
