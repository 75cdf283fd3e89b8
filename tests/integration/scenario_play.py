"""A molecule scenario's migration run by ansible-playbook outside molecule, for the tests that need to stop, watch or
repeat it: the scenario's host_vars (extensions/molecule/<workflow>/molecule.yml) over the scenarios' shared lab vars
(extensions/molecule/utils/vars/lab.yml), on localhost, after the molecule helper's prepare (run id, job length, the
GCS bucket, a PVS vDisk on the share)."""

import json
import os
import subprocess
import sys
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[2]
MOLECULE = REPO / "extensions" / "molecule"
BIN = Path(sys.executable).parent


def scenario_vars(workflow):
    data = yaml.safe_load((MOLECULE / workflow / "molecule.yml").read_text())
    return data["provisioner"]["inventory"]["host_vars"]["instance"]


def setup_run(lab_env, tmp_path, workflow="mcs_to_mcs", cache=True):
    """The environment of a run of `workflow` (tmp_path/scenario.json holds its vars); cache=False turns the Citrix
    Cloud token cache off."""
    ephemeral = tmp_path / "ephemeral"
    ephemeral.mkdir()
    env = dict(os.environ)
    env.update(lab_env)
    env.update(MOLECULE_EPHEMERAL_DIRECTORY=str(ephemeral), MOLECULE_SCENARIO_NAME=workflow, ANSIBLE_PYTHON_INTERPRETER=sys.executable,
               ANSIBLE_LOCALHOST_WARNING="False", ANSIBLE_INVENTORY_UNPARSED_WARNING="False", ANSIBLE_NOCOLOR="1",
               ANSIBLE_RETRY_FILES_ENABLED="False", PATH="%s:%s" % (BIN, env.get("PATH", "")), XDG_CACHE_HOME=str(tmp_path / "cache"))
    if not cache:
        env["CITRIX_CLOUD_TOKEN_CACHE"] = "false"
    prepared = subprocess.run([sys.executable, str(MOLECULE / "utils" / "files" / "lab_check.py"), "prepare", str(ephemeral), workflow],
                              env=env, capture_output=True, text=True, check=False)
    assert prepared.returncode == 0, prepared.stderr
    host_vars = scenario_vars(workflow)
    host_vars.update(migrate_source="{{ mol_sources[mol_source] }}", migrate_target="{{ mol_targets[mol_target] }}")
    (tmp_path / "scenario.json").write_text(json.dumps(host_vars))
    return env


def playbook_cmd(tmp_path, name, check=False):
    """ansible-playbook citrix_community.ips.<name> on localhost with the scenario's vars."""
    return [str(BIN / "ansible-playbook")] + (["--check", "--diff"] if check else []) + [
        "-i", "localhost,", "-c", "local", "-e", "@%s" % (MOLECULE / "utils" / "vars" / "lab.yml"),
        "-e", "@%s" % (tmp_path / "scenario.json"), "citrix_community.ips." + name]


def playbook(env, tmp_path, name, check=False):
    """Run it to the end; its output (stdout + stderr), asserting it succeeded."""
    run = subprocess.run(playbook_cmd(tmp_path, name, check), env=env, cwd=str(tmp_path), capture_output=True, text=True, timeout=600,
                         check=False)
    output = run.stdout + run.stderr
    assert run.returncode == 0, output[-6000:]
    return output


def token_requests(lab):
    return [r for r in lab.requests() if r["method"] == "POST" and r["path"].endswith("/tokens/clients")]


def api_calls(lab):
    return [r for r in lab.requests() if not r["path"].endswith("/tokens/clients")]
