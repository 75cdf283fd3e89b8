"""An AWX project pointing at this repository, checked the way AWX's project update prepares it: a clean copy
of the repository's files (no virtualenv, no lab, no collection linked anywhere), then, in that checkout,
`ansible-galaxy collection install -r collections/requirements.yml --collections-path <cache>`, then the job's
playbooks syntax-checked with only that cache as the collections path. Without the install step the same
syntax-check fails (the role is not found), so the test shows what collections/requirements.yml brings.
No lab is needed.
"""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from checkout import repo_copy

VENV_BIN = Path(sys.executable).parent
PLAYBOOKS = ("playbooks/migrate.yml", "playbooks/credentials.yml")


@pytest.fixture()
def project(tmp_path):
    src = tmp_path / "project"
    src.mkdir()
    repo_copy(src)
    cache = tmp_path / "requirements_collections"
    # What AWX's project update (awx/playbooks/project_update.yml) sets: only the cache is a collections path.
    env = {k: v for k, v in os.environ.items() if not k.startswith("ANSIBLE_")}
    env.update(ANSIBLE_COLLECTIONS_PATH=str(cache), ANSIBLE_COLLECTIONS_SCAN_SYS_PATH="False", ANSIBLE_NOCOLOR="1",
               ANSIBLE_LOCAL_TEMP=str(tmp_path / "tmp"), HOME=str(tmp_path))
    return src, cache, env


def syntax_check(src, env, playbook):
    return subprocess.run([str(VENV_BIN / "ansible-playbook"), "--syntax-check", "-i", "localhost,", playbook], cwd=str(src), env=env,
                          capture_output=True, text=True, timeout=120, check=False)


def test_a_project_on_this_repository_resolves_the_collection_as_awx_does(project):
    src, cache, env = project
    before = syntax_check(src, env, PLAYBOOKS[0])
    assert before.returncode != 0 and "citrix_community.ips.credentials" in before.stdout + before.stderr, \
        "the syntax-check passes without the collection installed: the test would prove nothing\n" + before.stdout + before.stderr

    done = subprocess.run([str(VENV_BIN / "ansible-galaxy"), "collection", "install", "-r", str(src / "collections" / "requirements.yml"),
                           "--collections-path", str(cache)], cwd=str(src), env=env, capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    installed = cache / "ansible_collections" / "citrix_community" / "ips"
    assert (installed / "MANIFEST.json").is_file() and (installed / "roles" / "migrate" / "tasks" / "main.yml").is_file()
    assert not (installed / "lab").exists(), "the project install carries the lab (build_ignore is not applied)"

    for playbook in PLAYBOOKS:
        check = syntax_check(src, env, playbook)
        assert check.returncode == 0, playbook + "\n" + check.stdout + check.stderr
