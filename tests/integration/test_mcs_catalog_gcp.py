"""The MCS last mile on GCP: an image of the prepared disk (in the lab's GCE plane) as a catalog's master image, through the
lab's DaaS stand-in, whose GCP hosting unit lists the plane's READY images under images.folder."""

import secrets

from lab_api import LabApi
from mcs_play import JOB_SECONDS, PATHS_PLAY, assert_paths, run_play

from ips_lab.planes.seed import gce_ready_image


def test_update_create_and_image_version_paths(lab, lab_env, tmp_path):
    lab.set_config(daas_job_seconds=JOB_SECONDS)
    LabApi(lab_env).daas("hypervisors/lab-gcp/resourcePools/lab-gcp-pool/resources?path=images.folder&children=true")  # stale first
    name = "mcs-gcp-%s" % secrets.token_hex(3)
    gce_ready_image(lab_env, name, tmp_path)
    run = run_play(lab_env, tmp_path, PATHS_PLAY, {"catalog": "lab-mcs-catalog-gcp", "pool": "lab-gcp-pool", "new_catalog": name + "-new",
                                                   "definition": name + "-def", "gcp_image": name})
    assert_paths(lab_env, run, "lab-mcs-catalog-gcp", name + "-new", name + "-def",
                 "XDHyp:\\HostingUnits\\lab-gcp-pool\\images.folder\\%s.image" % name)


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
    - name: Results
      ansible.builtin.copy:
        content: "{{ dict(names | zip(names | map('extract', vars))) | to_json }}"
        dest: "{{ results_file }}"
        mode: "0600"
      vars:
        names: [image_check, image_made, image_again, image_clash, catalog]
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
    assert lab_env["IPS_LAB_GCP_TOKEN"] not in run.output
