"""The lab used by hand: its seeded vSphere VMs are powered off (the service exports a VM's disk only then), a GCS
bucket exists from the start (IPS_LAB_GCS_BUCKET), and the commands docs/lab.md shows for placing a PVS vDisk run
verbatim and leave a VHDX the upload can read."""

import os
import re
import ssl
import subprocess
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def test_seeded_vms_are_powered_off(lab_env):
    from pyVim.connect import Disconnect, SmartConnect
    from pyVmomi import vim

    si = SmartConnect(host=lab_env["IPS_LAB_VCSIM_HOST"], port=int(lab_env["IPS_LAB_VCSIM_PORT"]), user=lab_env["IPS_LAB_VCSIM_USER"],
                      pwd=lab_env["IPS_LAB_VCSIM_PASSWORD"], sslContext=ssl._create_unverified_context())  # vcsim's self-signed cert
    try:
        content = si.RetrieveContent()
        view = content.viewManager.CreateContainerView(content.rootFolder, [vim.VirtualMachine], True)
        states = dict((vm.name, str(vm.runtime.powerState)) for vm in view.view)
    finally:
        Disconnect(si)
    assert "DC0_H0_VM0" in states
    # tests power VMs on themselves (test_job_modules.py); DC0_H0_VM0, the one the docs and molecule export, stays off
    assert states["DC0_H0_VM0"] == "poweredOff", states


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
