"""The MCS last mile on Azure: the prepared managed disk as a catalog's master image, through the lab's DaaS
stand-in, whose hosting unit lists the disks the Azure plane really holds."""

import secrets

import pytest
from lab_api import LabApi
from mcs_play import JOB_SECONDS, PATHS_PLAY, catalog, catalog_names, jobs, run_play

from ips_lab.planes.seed import azure_uploaded_disk

GROUP = "ips-lab-rg"
FOLDER = "image.folder\\%s.resourcegroup" % GROUP


@pytest.fixture()
def daas_lab(lab):
    lab.set_config(daas_job_seconds=JOB_SECONDS)
    return lab


def disk_path(name):
    return "XDHyp:\\HostingUnits\\lab-azure-pool\\%s\\%s.manageddisk" % (FOLDER, name)


def test_update_create_and_image_version_paths(daas_lab, lab_env, tmp_path):
    api = LabApi(lab_env)
    # the hosting unit's listing is cached before the disk exists: the modules must see past the stale cache
    api.daas("hypervisors/lab-azure/resourcePools/lab-azure-pool/resources?path=%s&children=true" % FOLDER.replace("\\", "%5C"))
    name = "mcs-az-%s" % secrets.token_hex(3)
    azure_uploaded_disk(lab_env, name)
    new_catalog, definition = "az-new-%s" % name[-6:], "az-def-%s" % name[-6:]
    run = run_play(lab_env, tmp_path, PATHS_PLAY, {"catalog": "lab-mcs-catalog", "pool": "lab-azure-pool", "new_catalog": new_catalog,
                                                   "definition": definition, "azure_disk": {"resource_group": GROUP, "name": name}})
    run.assert_ok()
    r = run.results()
    # update: check mode predicts and changes nothing, then the catalog moves, then a re-run changes nothing
    assert r["update_check"]["changed"] and r["update_check"]["job"] is None
    assert r["update_check"]["catalog"]["master_image_name"] == "old-master.manageddisk"
    assert r["update"]["changed"] and r["update"]["job"]["status"] == "Complete"
    assert r["update"]["master_image_path"] == disk_path(name)
    assert not r["update_again"]["changed"] and r["update_again"]["job"] is None
    assert r["info"]["catalogs"][0]["master_image_name"] == name + ".manageddisk"
    scheme = catalog(lab_env, "lab-mcs-catalog")["ProvisioningScheme"]
    assert scheme["MasterImage"]["XDPath"] == disk_path(name) and scheme["MasterImageNote"] == "from integration"
    # create
    assert r["create_check"]["changed"] and r["create_check"]["catalog"] is None
    assert r["create"]["changed"] and r["create"]["catalog"]["session_support"] == "MultiSession"
    assert not r["create_again"]["changed"]
    assert new_catalog in catalog_names(lab_env)
    # image version: definition created, version Success in the pool, assigned to the new catalog
    steps = {"definition": "created", "version": "created", "share": "exists", "assign": "done"}
    assert r["version"]["changed"] and r["version"]["steps"] == steps
    assert r["version"]["version"]["status"] == "Success" and r["version"]["version"]["master_image_path"] == disk_path(name)
    assert not r["version_again"]["changed"]
    made = catalog(lab_env, new_catalog)["ProvisioningScheme"]["CurrentImageVersion"]
    assert made["ImageDefinition"]["Name"] == definition and made["ImageVersion"]["Number"] == 1
    # check mode submitted nothing: one job per real change (update, create, version, assignment)
    assert sorted(j["Type"] for j in jobs(lab_env)) == sorted(["UpdateMachineCatalogProvisioningScheme", "CreateMachineCatalog",
                                                               "CreateImageVersion", "UpdateMachineCatalogProvisioningScheme"])
    assert lab_env["CITRIX_CLOUD_CLIENT_SECRET"] not in run.output


FAILURES_PLAY = """
- name: MCS failures
  hosts: localhost
  gather_facts: false
  tasks:
    - name: The job fails
      citrix_community.ips.ips_mcs_catalog_image:
        catalog: lab-mcs-catalog
        azure_disk: {resource_group: ips-lab-rg, name: "{{ first }}"}
        wait_sleep: 1
      register: failed
      ignore_errors: true
    - name: The job completes with a warning
      citrix_community.ips.ips_mcs_catalog_image:
        catalog: lab-mcs-catalog
        azure_disk: {resource_group: ips-lab-rg, name: "{{ first }}"}
        wait_sleep: 1
      register: warned
    - name: Jobs of the lab take 10 minutes from here on (lab time)
      ansible.builtin.uri: &lab_admin
        url: "{{ lookup('env', 'CITRIX_CLOUD_API_URL') }}/_lab/config"
        method: PUT
        ca_path: "{{ lookup('env', 'CITRIX_CLOUD_CA_PATH') }}"
        headers: {X-IPS-Lab-Admin: "{{ lookup('env', 'IPS_LAB_ADMIN_TOKEN') }}"}
        body_format: json
        body: {daas_job_seconds: 600}
    - name: An update left running
      citrix_community.ips.ips_mcs_catalog_image:
        catalog: lab-mcs-catalog
        azure_disk: {resource_group: ips-lab-rg, name: "{{ second }}"}
        wait: false
      register: running
    - name: Another update of the busy catalog
      citrix_community.ips.ips_mcs_catalog_image:
        catalog: lab-mcs-catalog
        azure_disk: {resource_group: ips-lab-rg, name: "{{ first }}"}
        store_old_image: false
      register: busy
      ignore_errors: true
    - name: The same update again attaches to the running one
      citrix_community.ips.ips_mcs_catalog_image:
        catalog: lab-mcs-catalog
        azure_disk: {resource_group: ips-lab-rg, name: "{{ second }}"}
        wait: false
      register: attached
    - name: The lab clock moves past the running job
      ansible.builtin.uri:
        <<: *lab_admin
        url: "{{ lookup('env', 'CITRIX_CLOUD_API_URL') }}/_lab/clock"
        method: POST
        body: {advance_seconds: 601}
    - name: Once it ended, the catalog is on that image
      citrix_community.ips.ips_mcs_catalog_image:
        catalog: lab-mcs-catalog
        azure_disk: {resource_group: ips-lab-rg, name: "{{ second }}"}
      register: settled
    - name: A PVS-streamed catalog
      citrix_community.ips.ips_mcs_catalog_image:
        catalog: lab-pvs-catalog
        azure_disk: {resource_group: ips-lab-rg, name: "{{ first }}"}
      register: pvs
      ignore_errors: true
    - name: A disk that does not exist
      citrix_community.ips.ips_mcs_catalog_image:
        catalog: lab-mcs-catalog
        azure_disk: {resource_group: ips-lab-rg, name: no-such-disk}
      register: missing
      ignore_errors: true
    - name: Results
      ansible.builtin.copy:
        content: "{{ dict(names | zip(names | map('extract', vars))) | to_json }}"
        dest: "{{ results_file }}"
        mode: "0600"
      vars:
        names: [failed, warned, running, busy, attached, settled, pvs, missing]
"""


def test_failures_are_reported_with_the_services_message(daas_lab, lab_env, tmp_path):
    first, second = "mcs-az-%s" % secrets.token_hex(3), "mcs-az-%s" % secrets.token_hex(3)
    azure_uploaded_disk(lab_env, first)
    azure_uploaded_disk(lab_env, second)
    daas_lab.daas_job_outcome("Failed", "The disk is not generalized (lab).", type="UpdateMachineCatalogProvisioningScheme")
    daas_lab.daas_job_outcome("CompleteWithWarning", "2 machines were not restarted (lab).", type="UpdateMachineCatalogProvisioningScheme")
    daas_lab.add_fault(r"^/cvad/manage/MachineCatalogs/", method="GET", status=429, retry_after=1)
    daas_lab.add_fault(r"^/cvad/manage/MachineCatalogs/", method="GET", status=503)
    run = run_play(lab_env, tmp_path, FAILURES_PLAY, {"first": first, "second": second})
    run.assert_ok()
    r = run.results()
    assert r["failed"]["failed"] and "ended Failed: The disk is not generalized (lab)." in r["failed"]["msg"]
    assert r["failed"]["job_status"] == "Failed"
    assert r["warned"]["changed"] and r["warned"]["job"]["status"] == "CompleteWithWarning"
    assert any("2 machines were not restarted (lab)." in w for w in r["warned"]["warnings"])
    assert r["running"]["changed"] and r["running"]["job"]["state"] == "running"
    assert r["busy"]["failed"] and "provisioning task in progress" in r["busy"]["msg"] and r["running"]["job"]["id"] in r["busy"]["msg"]
    assert r["attached"]["resumed"] and r["attached"]["job"]["id"] == r["running"]["job"]["id"]
    assert r["attached"]["job"]["state"] == "running" and not r["settled"]["changed"]
    assert r["pvs"]["failed"] and "not MCS" in r["pvs"]["msg"]
    assert r["missing"]["failed"] and "azure_disk" in r["missing"]["msg"] and "noCache" in r["missing"]["msg"]
    assert "Traceback" not in run.output
    # the 429 and the 503 were survived (retried), and consumed
    assert daas_lab.faults() == []
    statuses = [q["status"] for q in daas_lab.requests() if q["path"].startswith("/cvad/manage/MachineCatalogs/")]
    assert 429 in statuses and 503 in statuses
    assert catalog(lab_env, "lab-mcs-catalog")["ProvisioningScheme"]["MasterImage"]["Name"] == second + ".manageddisk"
