"""The MCS last mile on AWS: an AMI of the prepared snapshot (in moto) as a catalog's master image, through the lab's
DaaS stand-in, whose AWS hosting unit lists the AMIs moto really holds as `<name> (ami-...).template`. These paths go
through the on-premises Orchestration API (a Delivery Controller's, signed in as a Citrix admin); Azure and GCP go
through Citrix Cloud."""

import secrets

import pytest
from lab_api import LabApi
from mcs_play import JOB_SECONDS, PATHS_PLAY, assert_paths, onprem_env, run_play

boto3 = pytest.importorskip("boto3")


def make_ami(lab_env, name):
    ec2 = boto3.client("ec2", endpoint_url=lab_env["IPS_LAB_MOTO_URL"], region_name="us-east-1", aws_access_key_id="lab",
                       aws_secret_access_key="lab")
    volume = ec2.create_volume(Size=1, AvailabilityZone="us-east-1a")["VolumeId"]
    snapshot = ec2.create_snapshot(VolumeId=volume)["SnapshotId"]
    return ec2.register_image(Name=name, RootDeviceName="/dev/sda1", VirtualizationType="hvm",
                              BlockDeviceMappings=[{"DeviceName": "/dev/sda1", "Ebs": {"SnapshotId": snapshot}}])["ImageId"]


def test_update_create_and_image_version_paths(lab, lab_env, tmp_path):
    lab.set_config(daas_job_seconds=JOB_SECONDS)
    LabApi(lab_env).daas("hypervisors/lab-aws/resourcePools/lab-aws-pool/resources?path=&children=true")  # a stale listing first
    name = "mcs-aws-%s" % secrets.token_hex(3)
    ami = make_ami(lab_env, name)
    seen_before = len(lab.requests())
    run = run_play(lab_env, tmp_path, PATHS_PLAY, {"catalog": "lab-mcs-catalog-aws", "pool": "lab-aws-pool", "new_catalog": name + "-new",
                                                   "definition": name + "-def", "aws_ami": ami}, env_extra=onprem_env(lab_env))
    paths = [r["path"] for r in lab.requests()[seen_before:]]  # the run's calls (assert_paths reads the lab through the cloud base)
    assert_paths(lab_env, run, "lab-mcs-catalog-aws", name + "-new", name + "-def",
                 "XDHyp:\\HostingUnits\\lab-aws-pool\\%s (%s).template" % (name, ami))
    # every DaaS call of the run went to the Delivery Controller's base, signed in as its admin (one token for the run)
    onprem = "/citrix/orchestration/api/"
    assert paths and all(p.startswith(onprem) for p in paths), paths
    assert paths.count(onprem + "tokens") == 1 and any(p.startswith(onprem + "CitrixOnPremises/") and p.endswith("/MachineCatalogs")
                                                       for p in paths)
