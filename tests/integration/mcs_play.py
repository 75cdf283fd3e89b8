"""Run an MCS playbook (the ips_mcs_* modules) against the lab's DaaS stand-in, and read the lab back.

The modules find the DaaS API through CITRIX_DAAS_URL (the lab's IPS_LAB_DAAS_URL; ONPREM_ENV switches to its
on-premises Orchestration API with the lab's Citrix admin) and the site from /me.
Jobs of the DaaS stand-in take `daas_job_seconds` of lab time (JOB_SECONDS here); the plays look every second (wait_sleep: 1).
"""

import json
import os
import subprocess
import sys
from pathlib import Path

from lab_api import LabApi

BIN = Path(sys.executable).parent
JOB_SECONDS = 0  # a job ends at the first look; tests that need one running set it longer


class Run(object):
    def __init__(self, proc, results_file):
        self.rc = proc.returncode
        self.output = proc.stdout + proc.stderr
        self._results_file = results_file

    def assert_ok(self):
        assert self.rc == 0, self.output[-8000:]

    def results(self):
        """The registered results the play wrote, by name."""
        return json.loads(self._results_file.read_text())


def run_play(lab_env, tmp_path, play, extra_vars=None, check=False, env_extra=None):
    path = tmp_path / "mcs.yml"
    path.write_text(play.replace("#IMAGE#\n", IMAGE_ARGS).replace("#PROFILE#\n", PROFILE_ARGS))
    extra_vars = dict(extra_vars or {}, results_file=str(tmp_path / "results.json"))
    env = dict(os.environ)
    env.update(lab_env)
    env.update(CITRIX_DAAS_URL=lab_env["IPS_LAB_DAAS_URL"], ANSIBLE_NOCOLOR="1", ANSIBLE_PYTHON_INTERPRETER=sys.executable,
               ANSIBLE_LOCALHOST_WARNING="False", ANSIBLE_INVENTORY_UNPARSED_WARNING="False", XDG_CACHE_HOME=str(tmp_path / "xdg"))
    env.update(env_extra or {})
    cmd = [str(BIN / "ansible-playbook"), "-i", "localhost,", "-c", "local", "-e", json.dumps(extra_vars), str(path)]
    if check:
        cmd.append("--check")
    return Run(subprocess.run(cmd, env=env, cwd=str(tmp_path), capture_output=True, text=True, timeout=600, check=False),
               tmp_path / "results.json")


def onprem_env(lab_env):
    """The environment that points the modules at the lab's on-premises Orchestration API, signing in as its admin."""
    return {"CITRIX_DAAS_URL": lab_env["IPS_LAB_DAAS_ONPREM_URL"], "CITRIX_DAAS_USERNAME": lab_env["IPS_LAB_DAAS_ADMIN_USER"],
            "CITRIX_DAAS_PASSWORD": lab_env["IPS_LAB_DAAS_ADMIN_PASSWORD"]}


def catalog(lab_env, name):
    return LabApi(lab_env).daas("MachineCatalogs/%s" % name)


def catalog_names(lab_env):
    return sorted(c["Name"] for c in LabApi(lab_env).daas("MachineCatalogs")["Items"])


def jobs(lab_env):
    return LabApi(lab_env).daas("Jobs")["Items"]


# The artifact options, each omitted unless the play's extra vars set it.
IMAGE_ARGS = """        azure_disk: "{{ azure_disk | default(omit) }}"
        aws_ami: "{{ aws_ami | default(omit) }}"
        gcp_image: "{{ gcp_image | default(omit) }}"
"""
# The machine-profile option of the update and create (GCP: an instance template), omitted unless set.
PROFILE_ARGS = """        gcp_machine_profile: "{{ gcp_machine_profile | default(omit) }}"
"""

# The three paths for one cloud: update an existing catalog (check mode first, then for real, then again), create a
# catalog (check mode, real, again), make an image version and assign it (real, again); the registered results go to
# `results_file`.
PATHS_PLAY = """
- name: MCS paths
  hosts: localhost
  gather_facts: false
  tasks:
    - name: Update (check mode)
      citrix_community.ips.ips_mcs_catalog_image:
        catalog: "{{ catalog }}"
        note: from integration
        wait_sleep: 1
#IMAGE#
#PROFILE#
      check_mode: true
      register: update_check
    - name: Update
      citrix_community.ips.ips_mcs_catalog_image:
        catalog: "{{ catalog }}"
        note: from integration
        wait_sleep: 1
#IMAGE#
#PROFILE#
      register: update
    - name: Update again
      citrix_community.ips.ips_mcs_catalog_image:
        catalog: "{{ catalog }}"
        note: from integration
        wait_sleep: 1
#IMAGE#
#PROFILE#
      register: update_again
    - name: Info
      citrix_community.ips.ips_mcs_info:
        catalog: "{{ catalog }}"
      register: info
    - name: Create (check mode)
      citrix_community.ips.ips_mcs_catalog:
        name: "{{ new_catalog }}"
        resource_pool: "{{ pool }}"
        session_support: MultiSession
        wait_sleep: 1
#IMAGE#
#PROFILE#
      check_mode: true
      register: create_check
    - name: Create
      citrix_community.ips.ips_mcs_catalog:
        name: "{{ new_catalog }}"
        resource_pool: "{{ pool }}"
        session_support: MultiSession
        wait_sleep: 1
#IMAGE#
#PROFILE#
      register: create
    - name: Create again
      citrix_community.ips.ips_mcs_catalog:
        name: "{{ new_catalog }}"
        resource_pool: "{{ pool }}"
        wait_sleep: 1
#IMAGE#
#PROFILE#
      register: create_again
    - name: Image version, shared and assigned to the new catalog
      citrix_community.ips.ips_mcs_image_version:
        definition: "{{ definition }}"
        session_support: MultiSession
        resource_pool: "{{ pool }}"
        catalog: "{{ new_catalog }}"
        wait_sleep: 1
#IMAGE#
      register: version
    - name: Image version again
      citrix_community.ips.ips_mcs_image_version:
        definition: "{{ definition }}"
        session_support: MultiSession
        resource_pool: "{{ pool }}"
        catalog: "{{ new_catalog }}"
        wait_sleep: 1
#IMAGE#
      register: version_again
    - name: Results
      ansible.builtin.copy:
        content: "{{ dict(names | zip(names | map('extract', vars))) | to_json }}"
        dest: "{{ results_file }}"
        mode: "0600"
      vars:
        names: [update_check, update, update_again, info, create_check, create, create_again, version, version_again]
"""


def assert_paths(lab_env, run, existing, new_catalog, definition, path, profile=None):
    """What PATHS_PLAY must leave: `existing` moved to `path`, `new_catalog` made on it, a version of `definition` from it assigned
    to `new_catalog`; every re-run unchanged; check mode submitted nothing (one job per real change)."""
    run.assert_ok()
    r = run.results()
    assert r["update_check"]["changed"] and r["update_check"]["job"] is None
    assert r["update_check"]["catalog"]["master_image_name"].startswith("old-master")
    assert r["update"]["changed"] and r["update"]["job"]["status"] == "Complete" and r["update"]["master_image_path"] == path
    assert not r["update_again"]["changed"]
    assert catalog(lab_env, existing)["ProvisioningScheme"]["MasterImage"]["XDPath"] == path
    assert r["create_check"]["changed"] and r["create_check"]["catalog"] is None
    assert r["create"]["changed"] and not r["create_again"]["changed"]
    assert catalog(lab_env, new_catalog)["ProvisioningScheme"]["MasterImage"]["XDPath"] == path
    assert r["version"]["changed"] and r["version"]["version"]["status"] == "Success" and r["version"]["steps"]["assign"] == "done"
    assert not r["version_again"]["changed"]
    assigned = catalog(lab_env, new_catalog)["ProvisioningScheme"]["CurrentImageVersion"]
    assert assigned["ImageDefinition"]["Name"] == definition
    assert len(jobs(lab_env)) == 4
    if profile:  # the machine profile: sent with the update and the create, kept on both catalogs, returned
        assert r["update"]["machine_profile_path"] == profile and r["update"]["catalog"]["machine_profile_path"] == profile
        assert r["create"]["machine_profile_path"] == profile and r["create"]["catalog"]["machine_profile_path"] == profile
        for name in (existing, new_catalog):
            assert catalog(lab_env, name)["ProvisioningScheme"]["MachineProfile"]["XDPath"] == profile
    assert lab_env["CITRIX_CLOUD_CLIENT_SECRET"] not in run.output and lab_env["IPS_LAB_DAAS_ADMIN_PASSWORD"] not in run.output
