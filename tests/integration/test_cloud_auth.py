"""How ips_upload and ips_aws_image sign in to the clouds, run by ansible-playbook against the lab's planes:
temporary AWS credentials from AWX's AWS_SECURITY_TOKEN (the lab's EBS front refuses an ASIA key without a
session token, as AWS does, and records the SHA-256 of the token each call carried), no silent region
default, GCP's GCP_ACCESS_TOKEN/GCP_PROJECT (the GCE plane refuses any other token), and module_defaults
set once per cloud through the aws, azure and gcp action groups.
"""

import hashlib
import json
import os
import secrets
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from ips_lab.common.admin import LabAdmin as PlaneAdmin

BUCKET = "ips-auth-it"
CLOUD_ENV = ("AWS_", "EC2_", "AZURE_", "GCP_", "GOOGLE_")


@pytest.fixture(scope="module")
def image(tmp_path_factory):
    """A 64 MiB dynamic VHD holding 1 MiB of data."""
    folder = tmp_path_factory.mktemp("auth-image")
    raw = folder / "base.raw"
    with open(str(raw), "wb") as f:
        f.write(secrets.token_bytes(1024 * 1024))
        f.truncate(64 * 1024 * 1024)
    out = folder / "base.vhd"
    subprocess.run(["qemu-img", "convert", "-q", "-f", "raw", "-O", "vpc", "-o", "subformat=dynamic,force_size=on", str(raw), str(out)],
                   check=True)
    return out


def ensure_bucket(lab_env):
    from google.auth.credentials import AnonymousCredentials
    from google.cloud import storage
    client = storage.Client(project="p", credentials=AnonymousCredentials(), client_options={"api_endpoint": lab_env["IPS_LAB_GCS_URL"]})
    try:
        client.create_bucket(BUCKET)
    except Exception:  # pylint: disable=broad-except  # already there
        pass


def play(lab_env, tmp_path, tasks, env=None, module_defaults=None):
    """Run `tasks` (a list of dicts) at -vvvv with no cloud variable from the caller's environment; (rc, output)."""
    body = [{"name": "Cloud sign-in", "hosts": "localhost", "gather_facts": False, "tasks": tasks}]
    if module_defaults:
        body[0]["module_defaults"] = module_defaults
    playbook = tmp_path / ("play-%s.yml" % uuid.uuid4().hex[:6])
    playbook.write_text(json.dumps(body))
    full = {k: v for k, v in os.environ.items() if not k.startswith(CLOUD_ENV)}
    full.update(lab_env)
    full.update(ANSIBLE_PYTHON_INTERPRETER=sys.executable, ANSIBLE_LOCALHOST_WARNING="False", ANSIBLE_NOCOLOR="1",
                ANSIBLE_INVENTORY_UNPARSED_WARNING="False", AWS_CONFIG_FILE=str(tmp_path / "no-aws-config"),
                AWS_SHARED_CREDENTIALS_FILE=str(tmp_path / "no-aws-credentials"), AWS_EC2_METADATA_DISABLED="true")
    full.update(env or {})
    done = subprocess.run([str(Path(sys.executable).with_name("ansible-playbook")), "-vvvv", "-i", "localhost,", "-c", "local", str(playbook)],
                          env=full, cwd=str(tmp_path), capture_output=True, text=True, timeout=300, check=False)
    return done.returncode, done.stdout + done.stderr


def upload_task(image, tmp_path, target, options, register="up", **extra):
    args = {"source": {"location": str(image)}, "target": target, target: options, "journal_dir": str(tmp_path / "journal")}
    task = {"name": "Upload", "citrix_community.ips.ips_upload": args, "register": register}
    task.update(extra)
    return task


def aws_endpoints(lab_env, name):
    return {"snapshot_name": name, "ebs_endpoint_url": lab_env["IPS_LAB_EBS_URL"], "ec2_endpoint_url": lab_env["IPS_LAB_MOTO_URL"]}


def signers(lab_env):
    """(aws_key, aws_token_sha256) of every EBS call the front answered."""
    return {(r.get("aws_key"), r.get("aws_token_sha256")) for r in PlaneAdmin.from_env(lab_env, "ebs").requests()
            if r["path"].startswith("/snapshots")}


def sha256(text):
    return hashlib.sha256(text.encode()).hexdigest()


def test_aws_temporary_credentials_from_aws_security_token(lab, lab_env, image, tmp_path):
    ebs = PlaneAdmin.from_env(lab_env, "ebs")
    ebs.clear_requests()
    # the lab's temporary key (the EBS front takes no other): as STS issues one, valid only with its session token
    key, secret, token = (lab_env["IPS_LAB_AWS_SESSION_ACCESS_KEY_ID"], lab_env["IPS_LAB_AWS_SESSION_SECRET_ACCESS_KEY"],
                          lab_env["IPS_LAB_AWS_SESSION_TOKEN"])
    env = {"AWS_ACCESS_KEY_ID": key, "AWS_SECRET_ACCESS_KEY": secret, "AWS_SECURITY_TOKEN": token, "AWS_DEFAULT_REGION": "us-east-1"}
    name = "auth-sts-" + uuid.uuid4().hex[:6]
    rc, out = play(lab_env, tmp_path, [upload_task(image, tmp_path, "aws", aws_endpoints(lab_env, name))], env=env)
    assert rc == 0, out[-5000:]
    assert signers(lab_env) == {(key, sha256(token))}, "every EBS call carries the token AWX injects as AWS_SECURITY_TOKEN"
    assert secret not in out and token not in out

    # the same temporary key without its token: refused by the front as by AWS, and the message says what to set
    del env["AWS_SECURITY_TOKEN"]
    rc, out = play(lab_env, tmp_path, [upload_task(image, tmp_path, "aws", aws_endpoints(lab_env, name + "-b"))], env=env)
    assert rc != 0
    assert "UnrecognizedClientException" in out and "AWS_SECURITY_TOKEN" in out and "aws.session_token" in out, out[-3000:]
    assert "Traceback" not in out and secret not in out


def test_a_missing_aws_region_is_an_error_naming_the_options_and_variables(lab, lab_env, image, tmp_path):
    PlaneAdmin.from_env(lab_env, "ebs").clear_requests()
    env = {"AWS_ACCESS_KEY_ID": lab_env["IPS_LAB_AWS_ACCESS_KEY_ID"], "AWS_SECRET_ACCESS_KEY": lab_env["IPS_LAB_AWS_SECRET_ACCESS_KEY"]}
    rc, out = play(lab_env, tmp_path, [
        upload_task(image, tmp_path, "aws", aws_endpoints(lab_env, "auth-noregion"), ignore_errors=True),
        {"name": "Image", "register": "ami", "ignore_errors": True,
         "citrix_community.ips.ips_aws_image": {"name": "auth-noregion", "snapshot_id": "snap-0123456789abcdef0",
                                                "endpoint_url": lab_env["IPS_LAB_MOTO_URL"]}},
        {"name": "Both failed, naming what to set", "ansible.builtin.assert": {"that": [
            "up is failed", "'no AWS region' in up.msg", "'aws.region' in up.msg", "'aws_region' in up.msg",
            "'AWS_REGION' in up.msg and 'AWS_DEFAULT_REGION' in up.msg",
            "ami is failed", "'no AWS region' in ami.msg", "'region (or aws_region)' in ami.msg", "'AWS_REGION' in ami.msg"]}},
    ], env=env)
    assert rc == 0, out[-5000:]
    assert "Traceback" not in out
    assert not signers(lab_env), "a call was made without a region"


def test_gcp_access_token_and_project_from_the_environment(lab, lab_env, image, tmp_path):
    ensure_bucket(lab_env)
    name = "auth-gcp-" + uuid.uuid4().hex[:6]
    opts = {"bucket": BUCKET, "image_name": name, "storage_endpoint": lab_env["IPS_LAB_GCE_URL"],
            "compute_endpoint": lab_env["IPS_LAB_GCE_URL"]}
    env = {"GCP_ACCESS_TOKEN": lab_env["IPS_LAB_GCP_TOKEN"], "GCP_PROJECT": lab_env["IPS_LAB_GCP_PROJECT"]}
    rc, out = play(lab_env, tmp_path, [
        upload_task(image, tmp_path, "gcp", opts),
        {"name": "Made in the project GCP_PROJECT names", "ansible.builtin.assert": {"that": [
            "up is changed", "'/projects/%s/global/images/%s' in up.image_self_link" % (lab_env["IPS_LAB_GCP_PROJECT"], name)]}},
    ], env=env)
    assert rc == 0, out[-5000:]
    assert lab_env["IPS_LAB_GCP_TOKEN"] not in out

    # a wrong token in GCP_ACCESS_TOKEN is what the plane sees (it refuses it): the variable is really read
    env["GCP_ACCESS_TOKEN"] = "wrong-" + secrets.token_hex(8)
    rc, out = play(lab_env, tmp_path, [upload_task(image, tmp_path, "gcp", dict(opts, image_name=name + "-b"))], env=env)
    assert rc != 0 and "the access token was refused" in out and "GCP_ACCESS_TOKEN" in out, out[-3000:]
    assert env["GCP_ACCESS_TOKEN"] not in out


def test_module_defaults_set_each_clouds_sign_in_once(lab, lab_env, image, tmp_path):
    ensure_bucket(lab_env)
    ebs = PlaneAdmin.from_env(lab_env, "ebs")
    ebs.clear_requests()
    run = uuid.uuid4().hex[:6]
    key, secret, token = (lab_env["IPS_LAB_AWS_SESSION_ACCESS_KEY_ID"], lab_env["IPS_LAB_AWS_SESSION_SECRET_ACCESS_KEY"],
                          lab_env["IPS_LAB_AWS_SESSION_TOKEN"])
    defaults = {
        "group/citrix_community.ips.aws": {"aws_region": "us-east-1", "aws_access_key_id": key, "aws_secret_access_key": secret,
                                           "aws_session_token": token},
        "group/citrix_community.ips.azure": {"azure_subscription_id": lab_env["IPS_LAB_AZURE_SUBSCRIPTION_ID"],
                                             "azure_tenant": lab_env["IPS_LAB_AZURE_TENANT_ID"],
                                             "azure_client_id": lab_env["IPS_LAB_AZURE_CLIENT_ID"],
                                             "azure_secret": lab_env["IPS_LAB_AZURE_CLIENT_SECRET"]},
        "group/citrix_community.ips.gcp": {"gcp_project": lab_env["IPS_LAB_GCP_PROJECT"], "gcp_access_token": lab_env["IPS_LAB_GCP_TOKEN"]},
    }
    azure = {"resource_group": lab_env["IPS_LAB_AZURE_RESOURCE_GROUP"], "location": lab_env["IPS_LAB_AZURE_LOCATION"],
             "disk_name": "auth-md-" + run, "authority": lab_env["IPS_LAB_AZURE_AUTHORITY"], "arm_endpoint": lab_env["IPS_LAB_AZURE_URL"],
             "ca_path": lab_env["IPS_LAB_AZURE_CA_PATH"]}
    gcp = {"bucket": BUCKET, "image_name": "auth-md-" + run, "storage_endpoint": lab_env["IPS_LAB_GCE_URL"],
           "compute_endpoint": lab_env["IPS_LAB_GCE_URL"]}
    rc, out = play(lab_env, tmp_path, [
        upload_task(image, tmp_path, "aws", aws_endpoints(lab_env, "auth-md-" + run), register="to_aws"),
        upload_task(image, tmp_path, "azure", azure, register="to_azure"),
        upload_task(image, tmp_path, "gcp", gcp, register="to_gcp"),
        {"name": "An AMI from the snapshot, checked only", "check_mode": True, "register": "ami",
         "citrix_community.ips.ips_aws_image": {"name": "auth-md-" + run, "snapshot_id": "{{ to_aws.snapshot_id }}",
                                                "endpoint_url": lab_env["IPS_LAB_MOTO_URL"]}},
        {"name": "Each cloud took its sign-in from its group", "ansible.builtin.assert": {"that": [
            "to_aws is changed", "to_azure is changed", "to_azure.disk_id | length > 0", "to_gcp is changed", "ami is changed"]}},
    ], module_defaults=defaults)
    assert rc == 0, out[-6000:]
    assert signers(lab_env) == {(key, sha256(token))}
    for value in (secret, token, lab_env["IPS_LAB_AZURE_CLIENT_SECRET"], lab_env["IPS_LAB_GCP_TOKEN"]):
        assert value not in out


def azure_disk(lab_env, name, **sign_in):
    opts = {"subscription_id": lab_env["IPS_LAB_AZURE_SUBSCRIPTION_ID"], "resource_group": lab_env["IPS_LAB_AZURE_RESOURCE_GROUP"],
            "location": lab_env["IPS_LAB_AZURE_LOCATION"], "disk_name": name, "authority": lab_env["IPS_LAB_AZURE_AUTHORITY"],
            "arm_endpoint": lab_env["IPS_LAB_AZURE_URL"], "ca_path": lab_env["IPS_LAB_AZURE_CA_PATH"]}
    opts.update(sign_in)
    return opts


def test_azure_upload_with_a_client_certificate(lab, lab_env, image, tmp_path):
    """The lab's Entra checks the client assertion against the certificate registered for the app (signature,
    thumbprint, audience, issuer, expiry); the certificate comes from AZURE_CLIENT_CERTIFICATE_PATH."""
    name = "auth-cert-" + uuid.uuid4().hex[:6]
    env = {"AZURE_TENANT": lab_env["IPS_LAB_AZURE_TENANT_ID"], "AZURE_CLIENT_ID": lab_env["IPS_LAB_AZURE_CLIENT_ID"],
           "AZURE_CLIENT_CERTIFICATE_PATH": lab_env["IPS_LAB_AZURE_CLIENT_CERT_PATH"]}
    rc, out = play(lab_env, tmp_path, [
        upload_task(image, tmp_path, "azure", azure_disk(lab_env, name)),
        {"name": "Uploaded", "ansible.builtin.assert": {"that": ["up is changed", "up.disk_id is search('/disks/%s$')" % name]}},
    ], env=env)
    assert rc == 0, out[-5000:]

    # another key, unknown to the app registration: Entra refuses the assertion and the task says so
    other = tmp_path / "other.pem"
    from ips_lab.common.tls import ensure_client_certificate
    ensure_client_certificate(other, "not-registered")
    env["AZURE_CLIENT_CERTIFICATE_PATH"] = str(other)
    rc, out = play(lab_env, tmp_path, [upload_task(image, tmp_path, "azure", azure_disk(lab_env, name + "-b"))], env=env)
    assert rc != 0 and "AADSTS700027" in out and "azure.x509_certificate_path" in out, out[-3000:]


def test_azure_upload_with_the_managed_identity_endpoint(lab, lab_env, image, tmp_path):
    """auth_source msi on a host whose managed identity endpoint is App Service's (IDENTITY_ENDPOINT and the
    IDENTITY_HEADER secret, which the lab's endpoint checks); no tenant, client or secret is given."""
    name = "auth-msi-" + uuid.uuid4().hex[:6]
    env = {"IDENTITY_ENDPOINT": lab_env["IPS_LAB_AZURE_IDENTITY_ENDPOINT"], "IDENTITY_HEADER": lab_env["IPS_LAB_AZURE_IDENTITY_HEADER"]}
    rc, out = play(lab_env, tmp_path, [
        upload_task(image, tmp_path, "azure", azure_disk(lab_env, name, auth_source="msi")),
        {"name": "Uploaded", "ansible.builtin.assert": {"that": ["up is changed", "up.disk_id is search('/disks/%s$')" % name]}},
    ], env=env)
    assert rc == 0, out[-5000:]
    assert lab_env["IPS_LAB_AZURE_IDENTITY_HEADER"] not in out

    env["IDENTITY_HEADER"] = "wrong-" + secrets.token_hex(6)
    rc, out = play(lab_env, tmp_path, [upload_task(image, tmp_path, "azure", azure_disk(lab_env, name + "-b", auth_source="msi"))], env=env)
    assert rc != 0 and "managed identity" in out, out[-3000:]


def test_a_missing_sdk_is_one_message_naming_every_package_of_the_target(image, tmp_path):
    """azure.identity made unimportable the way a host without azure-identity has it: a directory first on
    PYTHONPATH whose azure/identity package fails to import (azure is a namespace package, so the rest of the
    Azure SDK still imports). No Python function is patched; the module runs as Ansible runs it."""
    hide = tmp_path / "hide" / "azure" / "identity"
    hide.mkdir(parents=True)
    (hide / "__init__.py").write_text("raise ImportError(\"No module named 'azure.identity'\")\n")
    args = tmp_path / "args.json"
    args.write_text(json.dumps({"ANSIBLE_MODULE_ARGS": {
        "source": {"location": str(image)}, "target": "azure", "journal_dir": str(tmp_path / "journal"),
        "azure": {"subscription_id": "00000000-0000-4000-8000-000000000001", "resource_group": "rg", "location": "eastus", "disk_name": "d",
                  "tenant_id": "00000000-0000-4000-8000-000000000002",
                  "client_id": "c", "client_secret": "missing-sdk-secret"}}}))
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(tmp_path / "hide")] + [p for p in sys.path if p]))
    done = subprocess.run([sys.executable, "-m", "ansible_collections.citrix_community.ips.plugins.modules.ips_upload", str(args)],
                          env=env, capture_output=True, text=True, timeout=120, check=False)
    result = json.loads(done.stdout)
    assert result.get("failed"), result
    assert "azure-identity azure-mgmt-compute azure-storage-blob" in result["msg"] and "azure-identity failed to import" in result["msg"] \
        and "-r requirements.txt" in result["msg"], \
        result["msg"]
