"""Every role of the collection names a misspelt key of one of its dict variables with the closest valid one, before
any of its tasks runs (the role_vars dependency runs ips_role_vars ahead of ansible-core's argument validation, which
names the key but suggests nothing). job_wait has no dict variable: a misspelt variable of it is named in a warning.
No lab is needed: the role stops before it calls anything."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

BIN = Path(sys.executable).parent

SMB = {"location": "smb://fs01/exports/", "credential_id": "smb"}
VSPHERE = {"host": "vc", "credential_id": "vc"}
CASES = {
    # role: (its variables with one misspelt key, the dotted key, the suggestion)
    "credentials": ({"credentials_customer_id": "c", "credentials_client_id": "i", "credentials_client_secret": "s",
                     "credentials_wallet": [{"name": "smb", "type": "username_password", "usernme": "u"}]},
                    "credentials_wallet[0].usernme", "username"),
    "export": ({"export_platform": "vsphere", "export_connection": VSPHERE, "export_source_disk": "d", "export_output_name": "o",
                "export_smb": {"locaton": "smb://fs01/exports/", "credential_id": "smb"}}, "export_smb.locaton", "location"),
    "prepare": ({"prepare_platform": "azure", "prepare_connection": {"credential_id": "az"}, "prepare_target_disk": "d",
                 "prepare_vda": {"instal_misa": True}}, "prepare_vda.instal_misa", "install_misa"),
    "publish": ({"publish_platform": "azure", "publish_connection": {"credential_id": "az"}, "publish_source_disk": "d",
                 "publish_output_name": "o", "publish_smb": {"location": "smb://fs01/store/", "credential": "smb"}},
                "publish_smb.credential", "credential_id"),
    "upload": ({"upload_source": {"location": "images/x.vhdx", "usernme": "u"}, "upload_target": "azure",
                "upload_target_options": {"disk_name": "d"}}, "upload_source.usernme", "username"),
    "migrate": ({"migrate_workflow": "mcs_to_mcs", "migrate_image_name": "x", "migrate_smb": SMB,
                 "migrate_source": {"platform": "vsphere", "connection": VSPHERE, "disk": "d"},
                 "migrate_target": {"platform": "azure", "connection": {"credential_id": "az"}, "upload": {}},
                 "migrate_upload": {"concurency": 4}}, "migrate_upload.concurency", "concurrency"),
}


def run_role(tmp_path, role, role_vars):
    play = [{"name": "role %s" % role, "hosts": "localhost", "gather_facts": False,
             "tasks": [{"name": "The role", "ansible.builtin.include_role": {"name": "citrix_community.ips." + role}}]}]
    (tmp_path / "play.yml").write_text(json.dumps(play))
    (tmp_path / "vars.json").write_text(json.dumps(role_vars))
    env = dict(os.environ, ANSIBLE_NOCOLOR="1", ANSIBLE_LOCALHOST_WARNING="False", ANSIBLE_INVENTORY_UNPARSED_WARNING="False",
               ANSIBLE_PYTHON_INTERPRETER=sys.executable, ANSIBLE_RETRY_FILES_ENABLED="False")
    for key in [k for k in env if k.startswith("CITRIX_CLOUD_")]:
        del env[key]
    done = subprocess.run([str(BIN / "ansible-playbook"), "-i", "localhost,", "-c", "local", "-e", "@%s" % (tmp_path / "vars.json"),
                           str(tmp_path / "play.yml")], env=env, capture_output=True, text=True, timeout=300, check=False)
    return done.returncode, done.stdout + done.stderr


@pytest.mark.parametrize("role", sorted(CASES))
def test_an_unknown_dict_key_is_named_with_its_suggestion_before_any_task(role, tmp_path):
    role_vars, key, suggestion = CASES[role]
    rc, output = run_role(tmp_path, role, role_vars)
    assert rc == 2, output[-3000:]
    assert "%s role: %s is not a key it knows: did you mean %s?" % (role, key, suggestion) in output, output[-3000:]
    tasks = [line for line in output.splitlines() if line.startswith("TASK [")]
    # only the check itself ran (and the checker's own argument validation): not even ansible-core's validation of the role
    assert tasks[-1].startswith("TASK [citrix_community.ips.role_vars : Check the role's variables"), tasks
    assert not [t for t in tasks if t.startswith("TASK [citrix_community.ips.%s " % role)], tasks


def test_the_same_variables_spelt_right_pass_the_check(tmp_path):
    role_vars, _key, _suggestion = CASES["upload"]
    role_vars = dict(role_vars, upload_source={"location": str(tmp_path / "missing.vhdx")})
    rc, output = run_role(tmp_path, "upload", role_vars)
    # the role goes on to its own tasks (and fails later: the file does not exist)
    assert "TASK [citrix_community.ips.upload : Check the inputs]" in output, output[-3000:]
    assert "did you mean" not in output


def test_job_wait_names_a_misspelt_variable_in_a_warning(tmp_path):
    rc, output = run_role(tmp_path, "job_wait", {"job_wait_id": "1", "job_wait_label": "x", "job_wait_timout": 5, "job_wait_timeout": 1,
                                                 "job_wait_delay": 1})
    assert "job_wait_timout is not a variable of the job_wait role: did you mean job_wait_timeout?" in " ".join(output.split()), output[-3000:]


def test_a_wrong_value_fails_with_a_short_message_before_any_task(tmp_path):
    role_vars = dict(CASES["migrate"][0], migrate_upload={"overwrite": "sometimes"})
    rc, output = run_role(tmp_path, "migrate", role_vars)
    assert rc == 2
    fatal = [line for line in output.splitlines() if line.startswith("fatal:")]
    assert len(fatal) == 1 and "migrate role: value of overwrite must be one of: never, different, always, got: sometimes" in fatal[0]
    assert len(fatal[0]) < 600, "the failure is %d characters long" % len(fatal[0])  # ansible-core's own: the whole spec, ~6 KB
