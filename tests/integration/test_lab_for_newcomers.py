"""The lab used by hand: a GCS bucket exists from the start (IPS_LAB_GCS_BUCKET), the commands docs/lab.md shows for
placing a PVS vDisk run verbatim and leave a VHDX the upload can read, and its first-migration playbook runs verbatim
(without a warning) to the prepared disk. That a fresh lab's VMs are powered off is checked on a fresh lab, in
tests/lab_lifecycle/test_lab_up_down.py (the tests here power VMs on and off)."""

import os
import re
import shutil
import subprocess
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def test_a_gcs_bucket_is_ready(lab_env):
    from google.auth.credentials import AnonymousCredentials
    from google.cloud import storage

    client = storage.Client(project="p", credentials=AnonymousCredentials(), client_options={"api_endpoint": lab_env["IPS_LAB_GCS_URL"]})
    assert lab_env["IPS_LAB_GCS_BUCKET"] in [b.name for b in client.list_buckets()]


def test_the_docs_place_a_pvs_vdisk_verbatim(lab_env, tmp_path):
    text = (REPO / "docs" / "lab.md").read_text()
    section = text[text.index("- **A PVS vDisk**"):text.index("- **Cloud targets**")]
    script = re.search(r"```sh\n(.*?)```", section, re.S).group(1)
    script = "\n".join(line.strip() for line in script.splitlines()).replace("lab/run/env", str(Path(lab_env["IPS_LAB_RUN_DIR"]) / "env"))
    placed = Path(lab_env["IPS_LAB_SMB_EXPORT_DIR"]) / "pvs" / "base.vhdx"
    if placed.exists():
        placed.unlink()
    subprocess.run(["bash", "-euc", script], cwd=str(tmp_path), check=True, env=dict(os.environ, PATH=os.environ["PATH"] + ":/usr/bin"))
    info = subprocess.run(["qemu-img", "info", str(placed)], capture_output=True, text=True, check=True).stdout
    assert "file format: vhdx" in info


def test_the_docs_first_migration_runs_verbatim(lab, lab_env, tmp_path):
    import sys

    text = (REPO / "docs" / "lab.md").read_text()
    section = text[text.index("### A first migration by hand"):]
    playbook = re.search(r"```yaml\n(.*?)```", section, re.S).group(1)
    assert playbook.startswith("# first-migration.yml\n")
    (tmp_path / "first-migration.yml").write_text(playbook)
    # what an earlier run on this lab left (the lab, as the service, refuses to overwrite outputs it no longer knows the job of)
    shutil.rmtree(str(Path(lab_env["IPS_LAB_SMB_EXPORT_DIR"]) / "first"), ignore_errors=True)
    sys.path.insert(0, str(REPO / "extensions" / "molecule" / "utils" / "files"))
    saved = dict(os.environ)
    os.environ.update(lab_env)
    try:
        import lab_check  # the molecule helper's Azure client

        compute = lab_check.azure_compute()
        for name in ("first-migration-mcs", "first-migration"):
            if name in [d.name for d in compute.disks.list_by_resource_group(lab_env["IPS_LAB_AZURE_RESOURCE_GROUP"])]:
                compute.disks.begin_delete(lab_env["IPS_LAB_AZURE_RESOURCE_GROUP"], name).result()
    finally:
        os.environ.clear()
        os.environ.update(saved)
    env = dict(os.environ)
    env.update(lab_env)
    env.update(ANSIBLE_PYTHON_INTERPRETER=sys.executable, ANSIBLE_LOCALHOST_WARNING="False", ANSIBLE_INVENTORY_UNPARSED_WARNING="False",
               ANSIBLE_NOCOLOR="1", PATH="%s:%s" % (Path(sys.executable).parent, env.get("PATH", "")))
    done = subprocess.run([str(Path(sys.executable).with_name("ansible-playbook")), "first-migration.yml"], env=env, cwd=str(tmp_path),
                          capture_output=True, text=True, timeout=600, check=False)
    assert done.returncode == 0, done.stdout[-5000:] + done.stderr[-2000:]
    assert re.search(r'"prepare\s+done\s+/subscriptions/', done.stdout), done.stdout[-3000:]
    assert "[WARNING]" not in done.stdout + done.stderr, (done.stdout + done.stderr)[-3000:]
