"""A 400 from the service with several field problems, as the lab's Citrix Cloud stand-in answers it (the first
problem in `detail`, every one in `errors`): the task fails with every problem in its message and in `errors`,
each named by the option the user sets (smb.credential_id), not by the JSON field (outputStorageLocation.credentialId).
"""

import json
import os
import subprocess
import sys
from pathlib import Path


def test_every_field_problem_is_reported_by_its_option_name(lab, lab_env, tmp_path):
    playbook = tmp_path / "play.yml"
    playbook.write_text(json.dumps([{"name": "A request the service refuses", "hosts": "localhost", "gather_facts": False, "tasks": [
        {"name": "Diagnostics with two unknown fields and an empty SMB credential", "register": "refused", "ignore_errors": True,
         "citrix_community.ips.ips_diagnostics": {
             "platform": "aws", "aws": {"credential_id": "aws-none", "region": "us-east-2"},
             "resource_location_id": lab_env["IPS_LAB_RESOURCE_LOCATION_ID"],
             "smb": {"location": "smb://fs01.example.com/diag/", "credential_id": "smb-none"},
             "extra_body": {"bogusOne": 1, "outputStorageLocation": {"location": "smb://fs01.example.com/diag/", "credentialId": ""}},
             "wait": False}},
        {"name": "Every problem, by option name", "ansible.builtin.assert": {"that": [
            "refused is failed", "refused.http_status == 400",
            "refused.errors | length >= 2",
            "refused.errors | selectattr('field', 'equalto', 'outputStorageLocation.credentialId') | map(attribute='option') | list"
            " == ['smb.credential_id']",
            "'smb.credential_id' in refused.msg and 'bogusOne' in refused.msg",
            "'outputStorageLocation.credentialId' not in refused.msg", "'more problem' not in refused.msg"]}},
    ]}]))
    env = dict(os.environ)
    env.update(lab_env)
    env.update(ANSIBLE_PYTHON_INTERPRETER=sys.executable, ANSIBLE_LOCALHOST_WARNING="False", ANSIBLE_NOCOLOR="1",
               ANSIBLE_INVENTORY_UNPARSED_WARNING="False")
    done = subprocess.run([str(Path(sys.executable).with_name("ansible-playbook")), "-i", "localhost,", "-c", "local", str(playbook)],
                          env=env, cwd=str(tmp_path), capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, (done.stdout + done.stderr)[-5000:]
