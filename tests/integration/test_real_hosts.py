"""The collection against the clouds' own host names: one migration to every cloud (the credentials and migrate roles,
what playbooks/migrate.yml and the molecule scenarios run: export from vSphere, one fan-out upload to Azure, AWS and
Google Cloud (migrate_more_targets), a prepare on each) with NO endpoint override at all. The playbook's environment
holds no URL of the lab: only HTTPS_PROXY (the lab's real-host proxy) and the proxy's CA as the CA bundle, so the
code that turns a region or a cloud name into api-eu.cloud.com, management.azure.com, login.microsoftonline.com,
md-....blob.storage.azure.net, ebs/ec2.us-east-1.amazonaws.com, storage.googleapis.com and compute.googleapis.com is
what runs.
"""

import os
import re
import subprocess
import sys
import uuid
from pathlib import Path

import yaml

from test_upload_modules import check_aws, check_azure, check_gcp

# the env file's keys that point at the lab; none may reach the playbook
ENDPOINT_KEYS = ("CITRIX_CLOUD_API_URL", "CITRIX_CLOUD_CA_PATH", "IPS_LAB_AZURE_URL", "IPS_LAB_AZURE_AUTHORITY", "IPS_LAB_AZURE_CA_PATH",
                 "IPS_LAB_EBS_URL", "IPS_LAB_MOTO_URL", "IPS_LAB_GCS_URL", "IPS_LAB_GCE_URL", "IPS_LAB_AZURE_IDENTITY_ENDPOINT",
                 "IPS_LAB_AZURITE_BLOB_URL", "IPS_LAB_DAAS_URL", "IPS_LAB_DAAS_ONPREM_URL", "IPS_LAB_IAM_URL", "IPS_LAB_WINHOST_URL",
                 "IPS_LAB_WINHOST_ADMIN_URL")


def proxy_env(lab_env):
    """The environment of a user behind the lab: the lab's secrets and names, the proxy and its CA, no lab URL."""
    env = dict((k, v) for k, v in os.environ.items() if not k.startswith(("IPS_LAB_", "CITRIX_CLOUD_")) and k.upper() not in (
        "HTTPS_PROXY", "HTTP_PROXY", "NO_PROXY", "REQUESTS_CA_BUNDLE", "SSL_CERT_FILE", "AWS_CA_BUNDLE", "CURL_CA_BUNDLE"))
    env.update((k, v) for k, v in lab_env.items() if k not in ENDPOINT_KEYS)
    ca = lab_env["IPS_LAB_PROXY_CA_PATH"]
    env.update(HTTPS_PROXY=lab_env["IPS_LAB_PROXY_URL"], NO_PROXY="127.0.0.1,localhost", REQUESTS_CA_BUNDLE=ca, SSL_CERT_FILE=ca,
               AWS_CA_BUNDLE=ca, CITRIX_CLOUD_REGION="eu",
               ANSIBLE_PYTHON_INTERPRETER=sys.executable, ANSIBLE_LOCALHOST_WARNING="False", ANSIBLE_INVENTORY_UNPARSED_WARNING="False",
               ANSIBLE_NOCOLOR="1", ANSIBLE_RETRY_FILES_ENABLED="False", PATH="%s:%s" % (Path(sys.executable).parent, os.environ.get("PATH", "")))
    return env


def target_of(cloud, lab_env, name):
    """migrate_target for `cloud`: names, regions and credentials only - the SDKs' own default hosts."""
    if cloud == "azure":
        return {"platform": "azure",
                "connection": {"credential_id": "rh-azure", "subscription_id": lab_env["IPS_LAB_AZURE_SUBSCRIPTION_ID"],
                               "resource_group": lab_env["IPS_LAB_AZURE_RESOURCE_GROUP"], "location": lab_env["IPS_LAB_AZURE_LOCATION"]},
                "upload": {"tenant_id": lab_env["IPS_LAB_AZURE_TENANT_ID"], "client_id": lab_env["IPS_LAB_AZURE_CLIENT_ID"],
                           "client_secret": lab_env["IPS_LAB_AZURE_CLIENT_SECRET"], "hyper_v_generation": "V2"}}
    if cloud == "aws":
        return {"platform": "aws", "connection": {"credential_id": "rh-aws", "region": "us-east-1"},
                "upload": {"access_key_id": lab_env["IPS_LAB_AWS_ACCESS_KEY_ID"], "secret_access_key": lab_env["IPS_LAB_AWS_SECRET_ACCESS_KEY"]}}
    return {"platform": "gcp", "connection": {"credential_id": "rh-gcp", "zone": "us-east4-a"},
            "upload": {"project": lab_env["IPS_LAB_GCP_PROJECT"], "token": lab_env["IPS_LAB_GCP_TOKEN"], "bucket": lab_env["IPS_LAB_GCS_BUCKET"]}}


def wallet(lab_env, project):
    return [
        {"name": "rh-smb", "type": "username_password", "username": lab_env["IPS_LAB_SMB_USER"], "password": lab_env["IPS_LAB_SMB_PASSWORD"]},
        {"name": "rh-vcenter", "type": "username_password", "username": lab_env["IPS_LAB_VCSIM_USER"],
         "password": lab_env["IPS_LAB_VCSIM_PASSWORD"]},
        {"name": "rh-azure", "type": "azure", "azure_tenant_id": lab_env["IPS_LAB_AZURE_TENANT_ID"],
         "azure_client_id": lab_env["IPS_LAB_AZURE_CLIENT_ID"], "azure_client_secret": lab_env["IPS_LAB_AZURE_CLIENT_SECRET"]},
        {"name": "rh-aws", "type": "aws", "aws_access_key_id": lab_env["IPS_LAB_AWS_ACCESS_KEY_ID"],
         "aws_secret_access_key": lab_env["IPS_LAB_AWS_SECRET_ACCESS_KEY"]},
        {"name": "rh-gcp", "type": "gcp", "gcp_service_account_key": {
            "type": "service_account", "project_id": project, "client_email": "ips-rh@%s.iam.gserviceaccount.com" % project,
            "private_key": "-----BEGIN PRIVATE KEY-----\nrealhosts\n-----END PRIVATE KEY-----\n"}},
    ]


def test_a_migration_reaches_every_cloud_by_its_real_host_names(lab, lab_env, tmp_path):
    """One migration to the three clouds: the fan-out upload and each cloud's prepare reach them by their real names."""
    lab.set_config(job_seconds=1)
    run = "rh%s" % uuid.uuid4().hex[:6]
    smb_host, share, port = lab_env["IPS_LAB_SMB_HOST"], lab_env["IPS_LAB_SMB_EXPORT_SHARE"], lab_env["IPS_LAB_SMB_PORT"]
    play_vars = {
        "credentials_wallet": wallet(lab_env, lab_env["IPS_LAB_GCP_PROJECT"]),
        "migrate_workflow": "mcs_to_mcs",
        "migrate_image_name": run,
        "migrate_resource_location_id": lab_env["IPS_LAB_RESOURCE_LOCATION_ID"],
        "migrate_poll_delay": 1,
        "migrate_upload": {"poll_delay": 1, "report_every": 5, "state_dir": str(tmp_path / "upload-state"),
                           "journal_dir": str(tmp_path / "journal")},
        "migrate_smb": {"location": "smb://%s/%s/%s/" % (smb_host, share, run),
                        "upload_location": "smb://%s:%s/%s/%s/" % (smb_host, port, share, run),
                        "credential_id": "rh-smb", "username": lab_env["IPS_LAB_SMB_USER"], "password": lab_env["IPS_LAB_SMB_PASSWORD"]},
        "migrate_source": {"platform": "vsphere", "disk": "DC0_H0_VM0/disk1.vmdk",
                           "connection": {"host": lab_env["IPS_LAB_VCSIM_HOST"], "port": int(lab_env["IPS_LAB_VCSIM_PORT"]),
                                          "credential_id": "rh-vcenter", "ssl_fingerprint": lab_env["IPS_LAB_VCSIM_SSL_FINGERPRINT"]},
                           "preflight": {"username": lab_env["IPS_LAB_VCSIM_USER"], "password": lab_env["IPS_LAB_VCSIM_PASSWORD"]}},
        "migrate_target": target_of("azure", lab_env, run),
        "migrate_more_targets": [target_of("aws", lab_env, run), target_of("gcp", lab_env, run)],
    }
    (tmp_path / "vars.yml").write_text(yaml.safe_dump(play_vars))
    (tmp_path / "play.yml").write_text(
        "- name: A migration through the clouds' own host names\n  hosts: localhost\n  connection: local\n  gather_facts: false\n"
        "  vars_files: [vars.yml]\n  roles:\n    - role: citrix_community.ips.credentials\n    - role: citrix_community.ips.migrate\n")
    env = proxy_env(lab_env)
    assert not [k for k, v in env.items() if "127.0.0.1:" in v and k not in ("IPS_LAB_PROXY_URL", "HTTPS_PROXY")]
    done = subprocess.run([str(Path(sys.executable).with_name("ansible-playbook")), "play.yml"], env=env, cwd=str(tmp_path),
                          capture_output=True, text=True, timeout=600, check=False)
    assert done.returncode == 0, done.stdout[-6000:] + done.stderr[-3000:]
    # the report names each cloud's upload and prepare, all done
    for cloud in ("azure", "aws", "gcp"):
        for stage in ("upload", "prepare"):
            assert re.search(r'"%s\s+done\s+%s\b' % (stage, cloud), done.stdout), "no %s done for %s: %s" % (stage, cloud, done.stdout[-4000:])
    # the export ran once, and the fan-out read its file once: one export job for three clouds
    exports = [r for r in lab.requests() if r["method"] == "POST" and r["path"].endswith("/$export") and "dryRun" not in (r.get("query") or "")]
    assert len(exports) == 1, exports
    # what each cloud holds now, read back at the lab's own endpoints: its state, and the exported disk byte for byte
    for cloud in ("azure", "aws", "gcp"):
        check_target(cloud, lab_env, run)
    export = re.search(r'"export\s+done\s+smb://[^/]+/[^/]+/(\S+\.vhdx) ', done.stdout)
    assert export, done.stdout[-3000:]
    ref = tmp_path / "exported.raw"
    subprocess.run(["qemu-img", "convert", "-q", "-f", "vhdx", "-O", "raw", str(Path(lab_env["IPS_LAB_SMB_EXPORT_DIR"]) / export.group(1)),
                    str(ref)], check=True)
    check_azure(lab_env, run, str(ref))
    check_aws(lab_env, run, str(ref))
    check_gcp(lab_env, run, str(ref), bucket=lab_env["IPS_LAB_GCS_BUCKET"])


def check_target(cloud, lab_env, name):
    if cloud == "azure":
        from azure.identity import ClientSecretCredential
        from azure.mgmt.compute import ComputeManagementClient

        ca = lab_env["IPS_LAB_AZURE_CA_PATH"]
        cred = ClientSecretCredential(lab_env["IPS_LAB_AZURE_TENANT_ID"], lab_env["IPS_LAB_AZURE_CLIENT_ID"], lab_env["IPS_LAB_AZURE_CLIENT_SECRET"],
                                      authority=lab_env["IPS_LAB_AZURE_AUTHORITY"], disable_instance_discovery=True, connection_verify=ca)
        compute = ComputeManagementClient(cred, lab_env["IPS_LAB_AZURE_SUBSCRIPTION_ID"], base_url=lab_env["IPS_LAB_AZURE_URL"],
                                          credential_scopes=["https://management.azure.com/.default"], connection_verify=ca)
        names = dict((d.name, d) for d in compute.disks.list_by_resource_group(lab_env["IPS_LAB_AZURE_RESOURCE_GROUP"]))
        assert names[name].disk_state == "Unattached" and names[name].tags["ips-upload-state"] == "complete"
        assert [n for n in names if n.startswith(name + "-")], "no prepared output disk"
    elif cloud == "aws":
        import boto3

        ec2 = boto3.client("ec2", endpoint_url=lab_env["IPS_LAB_MOTO_URL"], region_name="us-east-1", aws_access_key_id=lab_env["IPS_LAB_AWS_ACCESS_KEY_ID"],
                           aws_secret_access_key=lab_env["IPS_LAB_AWS_SECRET_ACCESS_KEY"])
        snaps = ec2.describe_snapshots(OwnerIds=["self"], Filters=[{"Name": "tag:Name", "Values": [name]}])["Snapshots"]
        assert len(snaps) == 1 and snaps[0]["State"] == "completed"
        tags = dict((t["Key"], t["Value"]) for t in snaps[0]["Tags"])
        assert tags.get("ips-upload-state") == "complete"
    else:
        from google.auth.transport.requests import AuthorizedSession
        from google.oauth2.credentials import Credentials

        session = AuthorizedSession(Credentials(lab_env["IPS_LAB_GCP_TOKEN"]))
        session.trust_env = False
        image = session.get("%s/compute/v1/projects/%s/global/images/%s" % (lab_env["IPS_LAB_GCE_URL"], lab_env["IPS_LAB_GCP_PROJECT"], name))
        assert image.status_code == 200 and image.json()["status"] == "READY", image.text
        # links the plane answered through the proxy carry the real host
        assert image.json()["selfLink"].startswith("https://compute.googleapis.com/compute/v1/"), image.json()["selfLink"]
