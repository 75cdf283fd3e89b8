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
