"""The README's playbook, verbatim, against the lab: its variables given with -e (as a reader gives them from an
inventory and a vault), the Citrix Cloud endpoint from the CITRIX_CLOUD_* environment the modules fall back to.
Every other YAML example of the docs is checked against the collection's specs in tests/unit/test_docs_examples.py;
docs/lab.md's playbooks run in test_lab_for_newcomers.py."""

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


def readme_playbook(section):
    text = (REPO / "README.md").read_text()
    part = text[text.index(section):]
    return re.search(r"^```yaml\n(.*?)^```", part, re.S | re.M).group(1)


def playbook_env(lab_env, tmp_path):
    env = dict((k, v) for k, v in os.environ.items() if not k.startswith(("ANSIBLE_", "CITRIX_CLOUD_")))
    # only the endpoint and its CA: the API client comes from the playbook's own variables
    env.update(CITRIX_CLOUD_API_URL=lab_env["CITRIX_CLOUD_API_URL"], CITRIX_CLOUD_CA_PATH=lab_env["CITRIX_CLOUD_CA_PATH"],
               ANSIBLE_PYTHON_INTERPRETER=sys.executable, ANSIBLE_LOCALHOST_WARNING="False", ANSIBLE_INVENTORY_UNPARSED_WARNING="False",
               ANSIBLE_NOCOLOR="1", XDG_CACHE_HOME=str(tmp_path / "xdg-cache"), PATH="%s:%s" % (BIN, os.environ.get("PATH", "")))
    return env


def test_the_readme_authentication_playbook_runs_verbatim(lab, lab_env, tmp_path):
    playbook = readme_playbook("## Authentication")
    (tmp_path / "push.yml").write_text(playbook)
    assert yaml.safe_load(playbook)[0]["hosts"] == "localhost"
    extra = {"citrix_customer_id": lab_env["CITRIX_CLOUD_CUSTOMER_ID"], "citrix_client_id": lab_env["CITRIX_CLOUD_CLIENT_ID"],
             "vault_citrix_client_secret": lab_env["CITRIX_CLOUD_CLIENT_SECRET"], "vault_smb_password": "readme-smb-password"}
    (tmp_path / "vars.json").write_text(json.dumps(extra))
    env = playbook_env(lab_env, tmp_path)
    done = subprocess.run([str(BIN / "ansible-playbook"), "-i", "localhost,", "-c", "local", "-e", "@vars.json", "push.yml"], env=env,
                          cwd=str(tmp_path), capture_output=True, text=True, timeout=300, check=False)
    output = done.stdout + done.stderr
    assert done.returncode == 0, output[-5000:]
    assert re.search(r"changed=1\s", done.stdout), done.stdout[-3000:]
    assert "readme-smb-password" not in output and lab_env["CITRIX_CLOUD_CLIENT_SECRET"] not in output

    # what the playbook made, read back through the service's API
    (tmp_path / "read.yml").write_text(
        "- hosts: localhost\n  gather_facts: false\n  tasks:\n"
        "    - citrix_community.ips.ips_credential_info: {name: smb-exports}\n      register: found\n"
        "    - ansible.builtin.copy: {content: '{{ found.credentials | to_json }}', dest: found.json, mode: '0600'}\n")
    env.update(CITRIX_CLOUD_CUSTOMER_ID=extra["citrix_customer_id"], CITRIX_CLOUD_CLIENT_ID=extra["citrix_client_id"],
               CITRIX_CLOUD_CLIENT_SECRET=extra["vault_citrix_client_secret"])
    read = subprocess.run([str(BIN / "ansible-playbook"), "-i", "localhost,", "-c", "local", "read.yml"], env=env, cwd=str(tmp_path),
                          capture_output=True, text=True, timeout=300, check=False)
    assert read.returncode == 0, (read.stdout + read.stderr)[-4000:]
    found = json.loads((tmp_path / "found.json").read_text())
    assert [(c["name"], c["type"]) for c in found] == [("smb-exports", "username_password")], found
