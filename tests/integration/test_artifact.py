"""The user's install path, as a user takes it: the artifact `ansible-galaxy collection build` makes from a
copy of the repository's files, installed with `ansible-galaxy collection install` into a fresh virtualenv
that holds only what the AWX execution environment definition installs (its ansible-core and ansible-runner pins,
`requirements.txt`; no lab package, no test tools, no link to the checkout), then one module of each kind run from
there against the lab: a Citrix Cloud API module (ips_credential_info), a local disk module (ips_disk_info on a
VHD made with qemu-img) and a cloud upload (ips_upload to the lab's EBS front over moto, which needs boto3 from
requirements.txt); and a whole migration through `ansible-runner`, as an AWX execution node runs a job.

The virtualenv is filled while the artifact is built (by uv from the cache `make setup` filled, seconds; pip took
about a minute, most of it asking the index), and the whole file stays a single module-scoped set-up.
"""

import fcntl
import os
import shutil
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest
import yaml
from checkout import REPO, repo_copy
from test_migrate_role import inventory, report_of  # noqa: F401 pylint: disable=unused-import  # the vaulted MCS -> MCS inventory

VENV_BIN = Path(sys.executable).parent

# Paths (prefixes) that only make sense with the lab or the developer's tools: never in the artifact.
LAB_ONLY = ("lab/", "bench/", "tools/", "tests/integration/", "tests/lab/", "tests/lab_clouds/", "tests/lab_lifecycle/", "tests/reliability/", "tests/tools/",
            "tests/output/", "extensions/molecule/", "playbooks/demo.yml", "docs/lab.md", "Makefile", "requirements-dev.txt",
            ".venv/", ".cache/", ".ci/", ".git", ".ansible-lint", "tests/unit/plugins/module_utils/test_jobs_wait.py",
            "tests/unit/plugins/module_utils/test_daas_onprem.py", "tests/unit/plugins/module_utils/sources/")
# What a user needs from it.
SHIPPED = ("LICENSE", "README.md", "CHANGELOG.md", "requirements.txt", "meta/runtime.yml", "meta/execution-environment.yml",
           "meta/ee-bindep.txt", "plugins/modules/ips_upload.py", "plugins/module_utils/_upload/aws.py",
           "plugins/action/ips_job_wait.py", "roles/migrate/tasks/main.yml", "playbooks/migrate.yml", "extensions/awx/credential_type.yml",
           "changelogs/changelog.yaml")


def run(cmd, timeout=300, **kw):
    done = subprocess.run([str(c) for c in cmd], capture_output=True, text=True, timeout=timeout, check=False, **kw)
    assert done.returncode == 0, "%s failed (rc %d):\n%s" % (" ".join(str(c) for c in cmd), done.returncode,
                                                             (done.stdout + done.stderr)[-4000:])
    return done.stdout


def execution_environment_pins():
    """ansible-core and ansible-runner as the AWX execution environment definition installs them (its Python
    requirements are requirements.txt, installed beside them)."""
    ee = yaml.safe_load((REPO / "extensions" / "awx" / "execution-environment.yml").read_text())["dependencies"]
    return [ee["ansible_core"]["package_pip"], ee["ansible_runner"]["package_pip"]]


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    """(artifact path, names inside it, fresh venv bin dir, collections dir), made once per test session: under
    pytest-xdist the workers share the temporary root, and the first to take the lock builds for all."""
    root = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        root = root.parent
    with open(str(root / "artifact.lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        base = root / "artifact"
        if not (base / "done").exists():
            shutil.rmtree(str(base), ignore_errors=True)
            base.mkdir()
            build_and_install(base)
            (base / "done").write_text("")
    artifact = next((base / "dist").glob("*.tar.gz"))
    with tarfile.open(str(artifact)) as tar:
        names = tar.getnames()
    return artifact, names, base / "venv" / "bin", base / "collections"


def build_and_install(base):
    venv = base / "venv"
    # The virtualenv first and in the background. uv (the one tools/setup-venv.sh put in .venv) installs what pip
    # would, the same requirement lines, from the cache setup filled: seconds instead of pip's minute of index look-ups.
    # Compiled at install as pip does, so the migration's processes do not compile the SDKs again.
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=120)
    pip_log = open(str(base / "pip.log"), "w")
    pip = subprocess.Popen(
        [str(VENV_BIN / "uv"), "pip", "install", "--python", str(venv / "bin" / "python"), "--compile-bytecode",
         "-r", str(REPO / "requirements.txt")] + execution_environment_pins(),
        stdout=pip_log, stderr=subprocess.STDOUT, env=dict(os.environ, UV_LINK_MODE="copy", UV_NO_PROGRESS="1"))
    try:
        src = repo_copy(base / "src")
        out = base / "dist"
        run([VENV_BIN / "ansible-galaxy", "collection", "build", src, "--output-path", out])
        galaxy = yaml.safe_load((src / "galaxy.yml").read_text())
        artifact = out / ("%s-%s-%s.tar.gz" % (galaxy["namespace"], galaxy["name"], galaxy["version"]))
        assert pip.wait(timeout=600) == 0, (base / "pip.log").read_text()[-4000:]
    finally:
        if pip.poll() is None:
            pip.kill()
        pip_log.close()
    collections = base / "collections"
    run([venv / "bin" / "ansible-galaxy", "collection", "install", artifact, "-p", collections],
        env=dict(os.environ, ANSIBLE_COLLECTIONS_PATH=str(collections)))


def test_the_artifact_holds_what_a_user_runs_and_no_lab_only_file(installed):
    names = installed[1]
    leaked = sorted(n for n in names if n.startswith(LAB_ONLY) or "/__pycache__" in n or n.endswith(".pyc"))
    assert not leaked, "lab-only or developer files in the artifact: %s" % leaked[:20]
    missing = [n for n in SHIPPED if n not in names]
    assert not missing, "the artifact lacks %s" % missing


def test_no_shipped_code_needs_the_lab(installed):
    """Nothing shipped reaches for the lab's package, its command or its env file."""
    names, collections = installed[1], installed[3]
    root = collections / "ansible_collections" / "citrix_community" / "ips"
    coupled = []
    for name in names:
        path = root / name
        if name.startswith("changelogs/"):  # the history may mention the lab; it is prose, not code that reaches for it
            continue
        if path.is_file() and path.suffix in (".py", ".yml", ".yaml", ".sh", ".txt"):
            text = path.read_text(errors="replace")
            if "ips_lab" in text or "IPS_LAB_" in text or "ips-lab" in text:
                coupled.append(name)
    assert not coupled, "shipped files that need the lab: %s" % coupled


def test_modules_run_from_a_fresh_virtualenv_with_only_requirements_txt(installed, lab, lab_env, tmp_path):
    bin_dir, collections = installed[2], installed[3]
    python = bin_dir / "python"
    # the fresh virtualenv really is fresh: no lab, no test tools, no link to the checkout
    probe = subprocess.run([str(python), "-c", "import ips_lab"], capture_output=True, text=True, check=False)
    assert probe.returncode != 0, "the fresh virtualenv can import the lab"
    probe = subprocess.run([str(python), "-c", "import ansible_collections.citrix_community.ips"], capture_output=True, text=True, check=False)
    assert probe.returncode != 0, "the fresh virtualenv sees a collection outside the installed artifact"

    raw = tmp_path / "base.raw"
    with open(str(raw), "wb") as f:  # 64 MiB with data in the first MiB, so the upload sends something
        f.write(b"ips-artifact-test " * 40000)
        f.truncate(64 * 1024 * 1024)
    image = tmp_path / "base.vhd"
    subprocess.run(["qemu-img", "convert", "-q", "-f", "raw", "-O", "vpc", "-o", "subformat=dynamic,force_size=on", str(raw), str(image)],
                   check=True)

    playbook = tmp_path / "play.yml"
    playbook.write_text("""
- name: Modules from the installed artifact
  hosts: localhost
  gather_facts: false
  tasks:
    - name: A Citrix Cloud API module (auth from the CITRIX_CLOUD_* environment)
      citrix_community.ips.ips_credential_info:
      register: creds

    - name: A local disk module
      citrix_community.ips.ips_disk_info:
        source: {location: "%(image)s"}
      register: disk

    - name: A cloud upload (boto3 from requirements.txt)
      citrix_community.ips.ips_upload:
        source: {location: "%(image)s"}
        target: aws
        journal_dir: "%(journal)s"
        aws:
          region: us-east-1
          snapshot_name: artifact-test
          ebs_endpoint_url: "%(ebs)s"
          ec2_endpoint_url: "%(ec2)s"
      register: upload

    - name: Each answered
      ansible.builtin.assert:
        that:
          - creds.credentials == []
          - disk.format == 'vhd'
          - disk.virtual_size == 67108864
          - upload is changed
          - upload.snapshot_id is match('snap-')
""" % {"image": image, "journal": tmp_path / "journal", "ebs": lab_env["IPS_LAB_EBS_URL"], "ec2": lab_env["IPS_LAB_MOTO_URL"]})
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ANSIBLE_", "VIRTUAL_ENV", "PYTHONPATH"))}
    env.update({k: v for k, v in lab_env.items() if k.startswith("CITRIX_CLOUD_")})
    env.update(PATH="%s:%s" % (bin_dir, os.environ.get("PATH", "")), ANSIBLE_COLLECTIONS_PATH=str(collections),
               ANSIBLE_COLLECTIONS_SCAN_SYS_PATH="False", ANSIBLE_PYTHON_INTERPRETER=str(python),
               ANSIBLE_LOCALHOST_WARNING="False", ANSIBLE_INVENTORY_UNPARSED_WARNING="False", ANSIBLE_NOCOLOR="1",
               AWS_ACCESS_KEY_ID=lab_env["IPS_LAB_AWS_ACCESS_KEY_ID"], AWS_SECRET_ACCESS_KEY=lab_env["IPS_LAB_AWS_SECRET_ACCESS_KEY"],
               HOME=str(tmp_path))
    done = subprocess.run([str(bin_dir / "ansible-playbook"), "-i", "localhost,", "-c", "local", str(playbook)], env=env,
                          cwd=str(tmp_path), capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, (done.stdout + done.stderr)[-6000:]
    assert lab_env["IPS_LAB_AWS_SECRET_ACCESS_KEY"] not in done.stdout + done.stderr


def test_a_migration_runs_through_ansible_runner_as_an_awx_execution_node_runs_it(installed, lab, lab_env, inventory, tmp_path):
    """A private data dir as AWX hands it to ansible-runner: the project's playbook, the inventory (secrets vaulted),
    the vault password on the command line, the collection on ANSIBLE_COLLECTIONS_PATH; the job runs on the venv that
    holds what the execution environment holds. AWX keeps what the runner writes (stdout, events): no secret there."""
    bin_dir, collections = installed[2], installed[3]
    lab.set_config(job_seconds=1)
    data = tmp_path / "runner"
    (data / "project").mkdir(parents=True)
    (data / "env").mkdir()
    shutil.copy(str(collections / "ansible_collections" / "citrix_community" / "ips" / "playbooks" / "migrate.yml"), str(data / "project"))
    shutil.copytree(str(inventory["path"]), str(data / "inventory"))
    envvars = dict(ANSIBLE_COLLECTIONS_PATH=str(collections), ANSIBLE_COLLECTIONS_SCAN_SYS_PATH="False",
                   ANSIBLE_PYTHON_INTERPRETER=str(bin_dir / "python"), ANSIBLE_LOCALHOST_WARNING="False", ANSIBLE_NOCOLOR="1",
                   XDG_CACHE_HOME=str(tmp_path / "xdg-cache"))
    (data / "env" / "envvars").write_text(yaml.safe_dump(envvars))
    (data / "env" / "cmdline").write_text("--vault-password-file %s" % inventory["password_file"])
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ANSIBLE_", "CITRIX_CLOUD_", "VIRTUAL_ENV", "PYTHONPATH"))}
    # HOME stays the user's: ansible-core finds a background job under the account's home directory (as in an
    # execution environment, where HOME is that directory), while the job writes under $HOME
    env.update(PATH="%s:%s" % (bin_dir, os.environ.get("PATH", "")))
    done = subprocess.run([str(bin_dir / "ansible-runner"), "run", str(data), "-p", "migrate.yml", "--ident", "migrate"], env=env,
                          cwd=str(tmp_path), capture_output=True, text=True, timeout=600, check=False)
    artifacts = data / "artifacts" / "migrate"
    stdout = (artifacts / "stdout").read_text() if (artifacts / "stdout").exists() else ""
    assert done.returncode == 0 and (artifacts / "status").read_text() == "successful", (stdout or done.stdout + done.stderr)[-6000:]
    report = report_of(stdout)
    assert [report.get(stage) for stage in ("export", "upload", "prepare")] == ["done", "done", "done"], stdout[-3000:]
    kept = [p for p in artifacts.rglob("*") if p.is_file()]
    assert any(p.parent.name == "job_events" for p in kept), "the runner kept no job events"
    leaked = [str(p.relative_to(artifacts)) for p in kept for secret in inventory["secrets"] + [lab_env["IPS_LAB_ADMIN_TOKEN"]]
              if secret in p.read_text(errors="replace")]
    assert not leaked, "secret values in what the runner keeps: %s" % leaked
