"""The prepare job's real work: check that the target disk exists in the platform's stand-in, then
produce the output artifact there.

One checker per platform. Each gets the job's parameters, the wallet look-up and the lab's cloud
endpoints, and returns the artifacts it produced (or raises WorkFailed naming what is missing):

  aws     moto (IPS_LAB_MOTO_URL): the target snapshot or volume must exist (a snapshot must be
          completed); the prepared result is a new EBS volume and a snapshot of it, tagged with the
          job's tags and Name = outputDiskName (or the target).
  azure   SEAM: the Azure managed-disk control plane (lab/ips_lab/clouds/, being built) will answer
          whether the disk/snapshot exists and is a well-formed fixed VHD. Until then: no check.
  gcp     SEAM: the GCE image plane (lab/ips_lab/clouds/, being built) will answer whether the image
          exists. Until then: no check.
  vsphere, xen, ahv: the hypervisors have no disk model in the lab; no check.

Without a configured endpoint (the lab's in-process tests), a checker skips its check.
"""

from ..cloud import rules
from .export import WorkFailed


def outputs(parameters):
    """The names a prepare reports whatever the platform: its output, or the target prepared in place."""
    found = {k: parameters[k] for k in rules.PREPARE_OUTPUTS if parameters.get(k)}
    if not found:
        found["outputDiskName"] = target_of(parameters)[1]
    return found


def target_of(parameters):
    """(field, value) of the selector naming the disk."""
    return next((f, parameters[f]) for f in rules.ALL_SELECTORS if parameters.get(f))


def _aws_client(parameters, credential_of, clouds):
    import boto3
    from botocore.config import Config

    cred_type, secrets = credential_of(parameters["platformCredentialId"])
    if cred_type != "Aws":
        raise WorkFailed("CredentialNotFound", "The AWS credential '%s' is no longer in the wallet." % parameters["platformCredentialId"])
    return boto3.client("ec2", endpoint_url=clouds["moto_url"], region_name=parameters.get("awsRegion") or "us-east-1",
                        aws_access_key_id=secrets["accessKeyId"], aws_secret_access_key=secrets["secretAccessKey"],
                        aws_session_token=secrets.get("sessionToken"),
                        config=Config(retries={"max_attempts": 2}, connect_timeout=10, read_timeout=30))


def check_aws(parameters, credential_of, clouds):
    if not clouds.get("moto_url"):
        return {}
    from botocore.exceptions import BotoCoreError, ClientError

    field, target = target_of(parameters)
    region = parameters.get("awsRegion") or "us-east-1"
    ec2 = _aws_client(parameters, credential_of, clouds)
    name = parameters.get("outputDiskName") or target
    tags = [{"Key": k, "Value": v} for k, v in sorted((parameters.get("tags") or {}).items())] + [{"Key": "Name", "Value": name}]
    try:
        if field == "targetSnapshotId":
            snaps = ec2.describe_snapshots(SnapshotIds=[target])["Snapshots"]
            if not snaps or snaps[0]["State"] != "completed":
                state = snaps[0]["State"] if snaps else "missing"
                raise WorkFailed("TargetNotReady", "The snapshot '%s' in %s is not completed (state %s)." % (target, region, state))
            volume = ec2.create_volume(SnapshotId=target, AvailabilityZone=region + "a",
                                       TagSpecifications=[{"ResourceType": "volume", "Tags": tags}])["VolumeId"]
        else:
            ec2.describe_volumes(VolumeIds=[target])
            volume = target
        snapshot = ec2.create_snapshot(VolumeId=volume, Description="Prepared by IPS (lab) from %s" % target,
                                       TagSpecifications=[{"ResourceType": "snapshot", "Tags": tags}])["SnapshotId"]
    except ClientError as exc:
        code = exc.response.get("Error", {}).get("Code", "")
        if code.startswith(("InvalidSnapshot", "InvalidVolume")) or code == "InvalidParameterValue":
            kind = "snapshot" if field == "targetSnapshotId" else "volume"
            raise WorkFailed("TargetNotFound", "The %s '%s' (%s) does not exist in AWS region %s." % (kind, target, field, region))
        raise WorkFailed("CloudError", "AWS answered %s: %s" % (code, exc.response.get("Error", {}).get("Message", "")))
    except BotoCoreError as exc:
        raise WorkFailed("CloudUnreachable", "AWS could not be reached: %s" % exc)
    return {"volumeId": volume, "snapshotId": snapshot, "outputDiskName": name}


def check_azure(parameters, credential_of, clouds):
    """SEAM for the Azure managed-disk control plane (lab/ips_lab/clouds/): no check yet."""
    return {}


def check_gcp(parameters, credential_of, clouds):
    """SEAM for the GCE image plane (lab/ips_lab/clouds/): no check yet."""
    return {}


CHECKERS = {"aws": check_aws, "azure": check_azure, "gcp": check_gcp}


def run_prepare(parameters, credential_of, clouds):
    """Do one prepare; returns its artifacts or raises WorkFailed."""
    artifacts = outputs(parameters)
    checker = CHECKERS.get(parameters["platform"])
    if checker is not None:
        artifacts.update(checker(parameters, credential_of, clouds))
    return artifacts
