"""The migrate role (playbooks/migrate.yml, by FQCN) against the lab, with an inventory whose secrets are
vault-encrypted the way docs/vault.md shows: an MCS -> MCS migration from vSphere to Azure is SIGKILLed in the
middle of its prepare stage, run again, and must report export and upload skipped and prepare resumed (the
running job attached to, never submitted twice); a third run reports every stage skipped. The re-run is at
-vvvv and no secret - neither the vaulted values nor the lab's own - may appear in its output.
"""

import json
import os
import re
import secrets
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from job_clock import run_and_finish_when_watched
from lab_api import LabApi

BIN = Path(sys.executable).parent


def job_posts(lab, verb):
    return [r for r in lab.requests() if r["method"] == "POST" and r["path"].endswith("/$" + verb) and "dryRun=true" not in (r.get("query") or "")]


def encrypt(name, value, password_file):
    out = subprocess.run([str(BIN / "ansible-vault"), "encrypt_string", "--vault-password-file", str(password_file), "--stdin-name", name],
                         input=value, capture_output=True, text=True, check=True)
    return out.stdout


@pytest.fixture()
def inventory(lab_env, tmp_path):
    """An inventory like examples/inventory/: no secret in main.yml, each in vault.yml, encrypted."""
    run = secrets.token_hex(3)
    password_file = tmp_path / "test.vault-pass"
    password_file.write_text(secrets.token_urlsafe(24) + "\n")
    password_file.chmod(0o600)
    gv = tmp_path / "inventory" / "group_vars" / "all"
    gv.mkdir(parents=True)
    (tmp_path / "inventory" / "hosts.yml").write_text("all:\n  hosts:\n    localhost:\n      ansible_connection: local\n")
    vaulted = {
        "vault_citrix_client_secret": lab_env["CITRIX_CLOUD_CLIENT_SECRET"],
        "vault_smb_password": lab_env["IPS_LAB_SMB_PASSWORD"],
        "vault_vcenter_password": lab_env["IPS_LAB_VCSIM_PASSWORD"],
        "vault_azure_client_secret": lab_env["IPS_LAB_AZURE_CLIENT_SECRET"],
        "vault_aws_secret_access_key": lab_env["IPS_LAB_AWS_SECRET_ACCESS_KEY"],
    }
    (gv / "vault.yml").write_text("---\n" + "".join(encrypt(k, v, password_file) for k, v in vaulted.items()))
    host, share = lab_env["IPS_LAB_SMB_HOST"], lab_env["IPS_LAB_SMB_EXPORT_SHARE"]
    main = {
        "credentials_customer_id": lab_env["CITRIX_CLOUD_CUSTOMER_ID"],
        "credentials_client_id": lab_env["CITRIX_CLOUD_CLIENT_ID"],
        "credentials_client_secret": "{{ vault_citrix_client_secret }}",
        "credentials_api_url": lab_env["CITRIX_CLOUD_API_URL"],
        "credentials_ca_path": lab_env["CITRIX_CLOUD_CA_PATH"],
        "credentials_wallet": [
            {"name": "rt-smb", "type": "username_password", "username": lab_env["IPS_LAB_SMB_USER"], "password": "{{ vault_smb_password }}"},
            {"name": "rt-vcenter", "type": "username_password", "username": lab_env["IPS_LAB_VCSIM_USER"], "password": "{{ vault_vcenter_password }}"},
            {"name": "rt-azure", "type": "azure", "azure_tenant_id": lab_env["IPS_LAB_AZURE_TENANT_ID"], "azure_client_id": lab_env["IPS_LAB_AZURE_CLIENT_ID"],
             "azure_client_secret": "{{ vault_azure_client_secret }}"},
            {"name": "rt-aws", "type": "aws", "aws_access_key_id": lab_env["IPS_LAB_AWS_ACCESS_KEY_ID"],
             "aws_secret_access_key": "{{ vault_aws_secret_access_key }}"},
        ],
        "migrate_workflow": "mcs_to_mcs",
        "migrate_image_name": "rt-%s" % run,
        "migrate_resource_location_id": lab_env["IPS_LAB_RESOURCE_LOCATION_ID"],
        "migrate_poll_delay": 1,
        "migrate_tags": {"change": "RT-%s" % run},
        "migrate_upload": {"poll_delay": 1, "report_every": 2, "state_dir": str(tmp_path / "state"), "journal_dir": str(tmp_path / "journal")},
        "migrate_smb": {"location": "smb://%s/%s/rt-%s/" % (host, share, run),
                        "upload_location": "smb://%s:%s/%s/rt-%s/" % (host, lab_env["IPS_LAB_SMB_PORT"], share, run),
                        "credential_id": "rt-smb", "username": lab_env["IPS_LAB_SMB_USER"], "password": "{{ vault_smb_password }}"},
        "migrate_source": {"platform": "vsphere", "disk": "DC0_H0_VM0/disk1.vmdk",
                           "connection": {"host": lab_env["IPS_LAB_VCSIM_HOST"], "port": int(lab_env["IPS_LAB_VCSIM_PORT"]), "credential_id": "rt-vcenter",
                                          "ssl_fingerprint": lab_env["IPS_LAB_VCSIM_SSL_FINGERPRINT"]}},
        "migrate_target": {
            "platform": "azure",
            "connection": {"credential_id": "rt-azure", "subscription_id": lab_env["IPS_LAB_AZURE_SUBSCRIPTION_ID"],
                           "resource_group": lab_env["IPS_LAB_AZURE_RESOURCE_GROUP"], "location": lab_env["IPS_LAB_AZURE_LOCATION"]},
            "upload": {"tenant_id": lab_env["IPS_LAB_AZURE_TENANT_ID"], "client_id": lab_env["IPS_LAB_AZURE_CLIENT_ID"],
                       "client_secret": "{{ vault_azure_client_secret }}", "authority": lab_env["IPS_LAB_AZURE_AUTHORITY"],
                       "arm_endpoint": lab_env["IPS_LAB_AZURE_URL"], "ca_path": lab_env["IPS_LAB_AZURE_CA_PATH"], "hyper_v_generation": "V2"},
        },
    }
    (gv / "main.yml").write_text("---\n" + json.dumps(main, indent=1) + "\n")
    return dict(path=tmp_path / "inventory", password_file=password_file, secrets=list(vaulted.values()), run=run)


def playbook_cmd(inventory, verbose=False):
    cmd = [str(BIN / "ansible-playbook"), "-i", str(inventory["path"]), "--vault-password-file", str(inventory["password_file"]),
           "citrix_community.ips.migrate"]
    return cmd + (["-vvvv"] if verbose else [])


def playbook_env(tmp_path):
    env = dict(os.environ)
    # the auth comes from the inventory, not the environment: drop any CITRIX_CLOUD_* the caller exported
    for key in [k for k in env if k.startswith("CITRIX_CLOUD_")]:
        del env[key]
    env.update(ANSIBLE_PYTHON_INTERPRETER=sys.executable, ANSIBLE_LOCALHOST_WARNING="False", ANSIBLE_NOCOLOR="1",
               ANSIBLE_RETRY_FILES_ENABLED="False", PATH="%s:%s" % (BIN, env.get("PATH", "")), HOME=env.get("HOME", str(tmp_path)))
    return env


def report_of(output):
    """The per-stage report the migrate role prints at the end: {stage: status}."""
    found = re.findall(r'"(export|upload|prepare|publish|catalog)\s+(skipped|resumed|done|not_run)\s', output)
    return dict(found[-4:])


def what_the_lab_saw(lab, job_id):
    """For a failed assertion: the job as the lab holds it (created, duration, completed on its clock), the clock, and
    the requests it recorded last (when each came, on the machine's clock)."""
    clock = lab.advance_clock(0)
    lines = ["", "the lab's clock: %s" % clock, "the job: %s" % json.dumps(lab.raw_job(job_id), default=str)[:1500], "its last requests:"]
    lines += ["  %s %s %s %s" % (r.get("time"), r["method"], r["path"], r.get("status")) for r in lab.requests()[-60:]]
    return "\n".join(lines)


def test_killed_in_a_stage_rerun_skips_done_stages_and_resumes_it(lab, lab_env, inventory, tmp_path):
    lab.set_config(job_seconds=3)
    env = playbook_env(tmp_path)
    proc = subprocess.Popen(playbook_cmd(inventory), env=env, cwd=str(tmp_path), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    try:
        deadline = time.monotonic() + 240
        slowed = False
        while time.monotonic() < deadline:
            if not slowed and job_posts(lab, "export"):
                # the export keeps its 3 s (a job's duration is fixed when it is submitted); the prepare, submitted
                # later, runs until the re-run watches it (the lab clock then ends it), on any machine
                lab.set_config(job_seconds=600)
                slowed = True
            posts = job_posts(lab, "prepare")
            if posts and posts[0]["status"] == 202:
                time.sleep(1.5)  # let the role poll the job at least once
                break
            assert proc.poll() is None, "the playbook ended before its prepare job was submitted"
            time.sleep(0.2)
        else:
            raise AssertionError("the prepare job was never submitted")
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(10)
    assert proc.returncode == -signal.SIGKILL
    assert len(job_posts(lab, "export")) == 1 and len(job_posts(lab, "prepare")) == 1
    # the prepare job the killed run left running: the clock ends it once the re-run watches it - not when the re-run
    # first looks at the finished export's job, which on a loaded machine ended the prepare before its stage came
    running = [j["id"] for j in LabApi(lab_env).call("GET", "jobs")["items"] if j["type"] == "prepare" and j["status"] == "inProgress"]
    assert len(running) == 1, running

    def rerun():
        return subprocess.run(playbook_cmd(inventory, verbose=True), env=env, cwd=str(tmp_path), capture_output=True, text=True,
                              timeout=600, check=False)

    again = run_and_finish_when_watched(lab, rerun, 600, job_id=running[0])
    output = again.stdout + again.stderr
    assert again.returncode == 0, output[-6000:]
    assert report_of(output) == {"export": "skipped", "upload": "skipped", "prepare": "resumed", "catalog": "not_run"}, \
        output[-3000:] + what_the_lab_saw(lab, running[0])
    assert len(job_posts(lab, "export")) == 1 and len(job_posts(lab, "prepare")) == 1, "a stage was submitted twice"
    leaked = [s for s in inventory["secrets"] + [lab_env["IPS_LAB_ADMIN_TOKEN"]] if s in output]
    assert not leaked, "%d secret value(s) appear in the -vvvv output" % len(leaked)
    assert "sig=" not in output, "a SAS signature reached the output"

    third = subprocess.run(playbook_cmd(inventory), env=env, cwd=str(tmp_path), capture_output=True, text=True, timeout=600, check=False)
    assert third.returncode == 0, third.stdout[-4000:]
    assert report_of(third.stdout) == {"export": "skipped", "upload": "skipped", "prepare": "skipped", "catalog": "not_run"}
    assert re.search(r"changed=0\s", third.stdout), "a re-run of a finished migration changed something"
    produced = Path(lab_env["IPS_LAB_SMB_EXPORT_DIR"]) / ("rt-%s" % inventory["run"]) / ("rt-%s.vhdx" % inventory["run"])
    assert produced.stat().st_size > 0
