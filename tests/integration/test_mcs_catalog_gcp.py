"""The MCS last mile on GCP: an image of the prepared disk (in the lab's GCE plane) as a catalog's master image and an
instance template booting from it as its machine profile, through the lab's DaaS stand-in, whose GCP hosting unit lists
the plane's READY images under images.folder and its instance templates under instanceTemplates.folder."""

import secrets

from lab_api import LabApi
from mcs_play import JOB_SECONDS, PATHS_PLAY, assert_paths, run_play

from ips_lab.planes.seed import gce_ready_image


def gce_call(lab_env, method, path, body=None):
    """One call to the lab's GCE plane (compute/v1/projects/<project>/<path>); a returned operation is waited for."""
    import json
    import urllib.request

    base = "%s/compute/v1/projects/%s/" % (lab_env["IPS_LAB_GCE_URL"], lab_env["IPS_LAB_GCP_PROJECT"])
    headers = {"Authorization": "Bearer " + lab_env["IPS_LAB_GCP_TOKEN"], "Content-Type": "application/json"}
    data = json.dumps(body).encode() if body is not None else (b"" if method == "POST" else None)
    with urllib.request.urlopen(urllib.request.Request(base + path, data=data, headers=headers, method=method), timeout=60) as resp:
        answer = json.load(resp)
    if answer.get("kind") == "compute#operation" and answer["status"] != "DONE":
        answer = gce_call(lab_env, "POST", "global/operations/%s/wait" % answer["name"])
        assert not answer.get("error"), answer
    return answer


def test_update_create_and_image_version_paths(lab, lab_env, tmp_path):
    """The three paths on the prepared image, update and create with an instance template of it as the machine profile."""
    lab.set_config(daas_job_seconds=JOB_SECONDS)
    LabApi(lab_env).daas("hypervisors/lab-gcp/resourcePools/lab-gcp-pool/resources?path=instanceTemplates.folder&children=true")  # stale
    name = "mcs-gcp-%s" % secrets.token_hex(3)
    gce_ready_image(lab_env, name, tmp_path)
    gce_call(lab_env, "POST", "global/instanceTemplates", {"name": name, "properties": {"machineType": "n2-standard-4", "disks": [
        {"boot": True, "initializeParams": {"sourceImage": "global/images/" + name}}]}})
    run = run_play(lab_env, tmp_path, PATHS_PLAY, {"catalog": "lab-mcs-catalog-gcp", "pool": "lab-gcp-pool", "new_catalog": name + "-new",
                                                   "definition": name + "-def", "gcp_image": name, "gcp_machine_profile": name})
    assert_paths(lab_env, run, "lab-mcs-catalog-gcp", name + "-new", name + "-def",
                 "XDHyp:\\HostingUnits\\lab-gcp-pool\\images.folder\\%s.image" % name,
                 "XDHyp:\\HostingUnits\\lab-gcp-pool\\instanceTemplates.folder\\%s.template" % name)


IMAGE_PLAY = """
- name: An image of the prepared disk, and the catalog on it
  hosts: localhost
  gather_facts: false
  module_defaults:
    group/citrix_community.ips.gcp:
      gcp_project: "{{ lookup('env', 'IPS_LAB_GCP_PROJECT') }}"
      gcp_access_token: "{{ lookup('env', 'IPS_LAB_GCP_TOKEN') }}"
      compute_endpoint: "{{ lookup('env', 'IPS_LAB_GCE_URL') }}"
  tasks:
    - name: Check mode
      citrix_community.ips.ips_gcp_image: {name: "{{ image }}", source_disk: "{{ disk }}", zone: us-east4-a, wait_sleep: 1}
      check_mode: true
      register: image_check
    - name: Make it
      citrix_community.ips.ips_gcp_image: {name: "{{ image }}", source_disk: "{{ disk }}", zone: us-east4-a, wait_sleep: 1}
      register: image_made
    - name: Again
      citrix_community.ips.ips_gcp_image: {name: "{{ image }}", source_disk: "{{ disk }}", zone: us-east4-a, wait_sleep: 1}
      register: image_again
    - name: That name from another disk
      citrix_community.ips.ips_gcp_image: {name: "{{ image }}", source_disk: "{{ seed }}", zone: us-east4-a}
      register: image_clash
      ignore_errors: true
    - name: The catalog on it
      citrix_community.ips.ips_mcs_catalog_image: {catalog: lab-mcs-catalog-gcp, gcp_image: "{{ image }}", wait_sleep: 1}
      register: catalog
    - name: An empty migrate report (the role's stages add to it)
      ansible.builtin.set_fact:
        migrate_report: []
    - name: Template (check mode)
      citrix_community.ips.ips_gcp_instance_template: &template
        name: "{{ image }}"
        source_image: "{{ image }}"
        machine_type: n2-standard-4
        disk_type: pd-balanced
        network: default
        labels: {ips: mcs}
        wait_sleep: 1
      check_mode: true
      register: template_check
    - name: Template
      citrix_community.ips.ips_gcp_instance_template: *template
      register: template_made
    - name: Template again
      citrix_community.ips.ips_gcp_instance_template: *template
      register: template_again
    - name: Another machine type under that name
      citrix_community.ips.ips_gcp_instance_template: {name: "{{ image }}", source_image: "{{ image }}", machine_type: n2-standard-8}
      register: template_clash
      ignore_errors: true
    - name: Replace it (check mode)
      citrix_community.ips.ips_gcp_instance_template: {name: "{{ image }}", source_image: "{{ image }}", machine_type: n2-standard-8,
                                                       overwrite: true}
      check_mode: true
      register: template_replace_check
    - name: Replace it
      citrix_community.ips.ips_gcp_instance_template: {name: "{{ image }}", source_image: "{{ image }}", machine_type: n2-standard-8,
                                                       overwrite: true, wait_sleep: 1}
      register: template_replaced
    - name: A template of an image that is not there
      citrix_community.ips.ips_gcp_instance_template: {name: "{{ image }}-x", source_image: "{{ image }}-nowhere", machine_type: n2-standard-4}
      register: template_no_image
      ignore_errors: true
    - name: A template as the master image is refused
      citrix_community.ips.ips_mcs_catalog_image: {catalog: lab-mcs-catalog-gcp, gcp_instance_template: "{{ image }}", wait_sleep: 1}
      register: catalog_template
      ignore_errors: true
    - name: The catalog, already on the image, with the template as its machine profile
      citrix_community.ips.ips_mcs_catalog_image: {catalog: lab-mcs-catalog-gcp, gcp_image: "{{ image }}", gcp_machine_profile: "{{ image }}",
                                                   wait_sleep: 1}
      register: catalog_profile
    - name: The migrate role's catalog stage on GCP (after a prepare that left the disk), on an image and a template of its own making
      ansible.builtin.include_role:
        name: citrix_community.ips.migrate
        tasks_from: catalog
      vars:
        migrate_workflow: mcs_to_mcs
        migrate_image_name: "{{ seed }}"
        migrate_smb: {location: "smb://127.0.0.1/unused/"}
        migrate_prepare: {output_disk_name: "{{ seed }}-mig"}
        prepare_result: {status: done, disk_name: "{{ disk }}"}
        migrate_target:
          platform: gcp
          connection: {zone: us-east4-a}
          upload:
            project: "{{ lookup('env', 'IPS_LAB_GCP_PROJECT') }}"
            token: "{{ lookup('env', 'IPS_LAB_GCP_TOKEN') }}"
            compute_endpoint: "{{ lookup('env', 'IPS_LAB_GCE_URL') }}"
        migrate_catalog: {name: lab-mcs-catalog-gcp, gcp_template: {machine_type: e2-standard-4, disk_type: pd-balanced}}
        migrate_poll_delay: 1
    - name: Results
      ansible.builtin.copy:
        content: "{{ dict(names | zip(names | map('extract', vars))) | to_json }}"
        dest: "{{ results_file }}"
        mode: "0600"
      vars:
        names: [image_check, image_made, image_again, image_clash, catalog, template_check, template_made, template_again, template_clash,
                template_replace_check, template_replaced, template_no_image, catalog_template, catalog_profile, migrate_report]
"""


def gce_disk_from_image(lab_env, name, image):
    """What a GCP prepare leaves: a disk in us-east4-a made from the uploaded image (the lab's GCE plane)."""
    import json
    import time
    import urllib.request

    base = "%s/compute/v1/projects/%s/zones/us-east4-a" % (lab_env["IPS_LAB_GCE_URL"], lab_env["IPS_LAB_GCP_PROJECT"])
    headers = {"Authorization": "Bearer " + lab_env["IPS_LAB_GCP_TOKEN"], "Content-Type": "application/json"}
    req = urllib.request.Request(base + "/disks", data=json.dumps({"name": name, "sourceImage": "global/images/" + image}).encode(),
                                 headers=headers, method="POST")
    with urllib.request.urlopen(req, timeout=30) as resp:
        op = json.load(resp)
    while op["status"] != "DONE":
        time.sleep(0.2)
        with urllib.request.urlopen(urllib.request.Request(base + "/operations/%s/wait" % op["name"], data=b"", headers=headers), timeout=60) as resp:
            op = json.load(resp)
    assert not op.get("error"), op


def test_an_image_of_the_prepared_disk(lab, lab_env, tmp_path):
    lab.set_config(daas_job_seconds=JOB_SECONDS)
    seed = "mcs-gcp-%s" % secrets.token_hex(3)
    gce_ready_image(lab_env, seed, tmp_path)
    gce_disk_from_image(lab_env, seed + "-mcs", seed)
    image = seed + "-mcs-img"
    run = run_play(lab_env, tmp_path, IMAGE_PLAY, {"image": image, "disk": seed + "-mcs", "seed": seed})
    run.assert_ok()
    r = run.results()
    assert r["image_check"]["changed"] and r["image_check"]["image"] is None
    assert r["image_made"]["changed"] and r["image_made"]["image"]["status"] == "READY"
    assert r["image_made"]["image"]["source_disk"].endswith("/zones/us-east4-a/disks/%s-mcs" % seed)
    assert not r["image_again"]["changed"]
    assert r["image_clash"]["failed"] and "exists already" in r["image_clash"]["msg"]
    assert r["catalog"]["changed"] and r["catalog"]["catalog"]["master_image_name"] == image + ".image"
    # the instance template: check mode predicts and makes nothing, made once, then unchanged; another one under the name
    # is refused naming the difference, replaced only with overwrite
    assert r["template_check"]["changed"] and not r["template_check"]["replaced"] and "id" not in r["template_check"]["template"]
    made = r["template_made"]["template"]
    assert r["template_made"]["changed"] and made["machine_type"] == "n2-standard-4" and made["source_image"] == image
    assert made["disk_type"] == "pd-balanced" and made["network"] == "default" and made["labels"] == {"ips": "mcs"}
    assert not r["template_again"]["changed"] and r["template_again"]["template"]["id"] == made["id"]
    assert r["template_clash"]["failed"] and "machine_type is 'n2-standard-4', not 'n2-standard-8'" in r["template_clash"]["msg"]
    assert r["template_replace_check"]["changed"] and r["template_replace_check"]["replaced"]
    assert r["template_replaced"]["replaced"] and r["template_replaced"]["template"]["id"] != made["id"]
    assert r["template_no_image"]["failed"] and "(source_image)" in r["template_no_image"]["msg"]
    in_plane = gce_call(lab_env, "GET", "global/instanceTemplates")["items"]
    assert sorted((t["name"], t["properties"]["machineType"]) for t in in_plane if t["name"].startswith(seed)) == [
        (seed + "-mcs-img", "n2-standard-8"), (seed + "-mig", "e2-standard-4")]
    # a template is a machine profile, never the master image; the same image with another profile is a change
    assert r["catalog_template"]["failed"] and "machine profile" in r["catalog_template"]["msg"]
    assert "gcp_machine_profile" in r["catalog_template"]["msg"] and "gcp_image" in r["catalog_template"]["msg"]
    profile = "XDHyp:\\HostingUnits\\lab-gcp-pool\\instanceTemplates.folder\\%s.template" % image
    assert r["catalog_profile"]["changed"] and r["catalog_profile"]["previous_machine_profile_path"] is None
    assert r["catalog_profile"]["catalog"]["machine_profile_path"] == profile
    assert r["catalog_profile"]["catalog"]["master_image_name"] == image + ".image"
    # migrate's catalog stage: an image of the prepared disk as the master image, a template of that image as the profile
    stage = r["migrate_report"][-1]
    assert len(r["migrate_report"]) == 1 and stage["stage"] == "catalog" and stage["status"] == "done", stage
    assert stage["output_name"] == "lab-mcs-catalog-gcp on %s-mig.image" % seed, stage
    scheme = LabApi(lab_env).daas("MachineCatalogs/lab-mcs-catalog-gcp")["ProvisioningScheme"]
    assert scheme["MasterImage"]["Name"] == seed + "-mig.image"
    assert scheme["MachineProfile"]["XDPath"] == "XDHyp:\\HostingUnits\\lab-gcp-pool\\instanceTemplates.folder\\%s-mig.template" % seed
    mig = gce_call(lab_env, "GET", "global/instanceTemplates/%s-mig" % seed)["properties"]["disks"][0]["initializeParams"]
    assert mig["sourceImage"] == "global/images/%s-mig" % seed and mig["diskType"] == "pd-balanced"
    assert lab_env["IPS_LAB_GCP_TOKEN"] not in run.output
