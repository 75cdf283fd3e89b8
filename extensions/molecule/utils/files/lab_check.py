#!/usr/bin/env python
"""Molecule helper for the lab (extensions/molecule/): set the lab up for a scenario and check that the
artifacts a migration produced really exist in the stand-ins. Reads the lab's env (CITRIX_CLOUD_*,
IPS_LAB_*) from the environment, as `make test` exports it (a key the scenario blanked: from the lab's env file).
Prints one JSON line; exit 1 on a failed check.

  lab_check.py prepare <ephemeral dir> <scenario>   run id, job_seconds, GCS bucket, a PVS vDisk on the share
  lab_check.py check '<json list of checks>'        smb_file, azure_disk, aws_snapshot, gcp_image, gcp_disk, daas_catalog, pvs_vdisk,
                                                   real_hosts
  lab_check.py unchanged                           nothing written to a stand-in since prepare (a --check run)
"""

import json
import os
import re
import secrets
import ssl
import subprocess
import sys
import urllib.parse
import urllib.request

MIB = 1024 * 1024
BUCKET = "ips-molecule"
WRITES = ("POST", "PUT", "PATCH", "DELETE")
# the stand-ins whose request logs show a write (the lab's own admin client; molecule runs on the lab's venv)
LOGGED = ("citrix", "azure", "ebs", "gce")


def admins():
    from ips_lab.common.admin import LabAdmin
    return dict((part, LabAdmin.from_env(lab_env(), part)) for part in LOGGED)


def lab_env():
    """The environment, where a scenario that reaches the lab by the clouds' real host names blanks the lab's endpoints
    (CITRIX_CLOUD_API_URL ...) for the roles: each blanked key read from the lab's own env file."""
    values = dict(os.environ)
    path = os.path.join(os.environ.get("IPS_LAB_RUN_DIR") or "", "env")
    if os.path.isfile(path):
        with open(path) as lines:
            for line in lines:
                key, sep, value = line.rstrip("\n").partition("=")
                if sep and not line.startswith("#") and not values.get(key):
                    values[key] = value
    return values


def env(key):
    value = lab_env().get(key)
    if not value:
        raise SystemExit("%s is not set: run molecule with the lab's env exported (make test does)" % key)
    return value


def lab_config(**changes):
    ctx = ssl.create_default_context(cafile=env("CITRIX_CLOUD_CA_PATH"))
    req = urllib.request.Request(env("CITRIX_CLOUD_API_URL").rstrip("/") + "/_lab/config", data=json.dumps(changes).encode(), method="PUT",
                                 headers={"X-IPS-Lab-Admin": env("IPS_LAB_ADMIN_TOKEN"), "Content-Type": "application/json"})
    with urllib.request.urlopen(req, context=ctx, timeout=30) as resp:
        return json.load(resp)


def make_vdisk(path):
    """A small dynamic VHDX with a few data blocks, as a PVS vDisk would be."""
    raw = path + ".raw"
    with open(raw, "wb") as out:
        out.truncate(256 * MIB)
        for offset in (0, 40 * MIB, 200 * MIB):
            out.seek(offset)
            out.write(secrets.token_bytes(MIB))
    subprocess.run(["qemu-img", "convert", "-f", "raw", "-O", "vhdx", "-o", "subformat=dynamic", raw, path], check=True)
    os.remove(raw)


def make_bucket():
    from google.auth.credentials import AnonymousCredentials
    from google.cloud import storage
    client = storage.Client(project="p", credentials=AnonymousCredentials(), client_options={"api_endpoint": env("IPS_LAB_GCS_URL")})
    try:
        client.create_bucket(BUCKET)
    except Exception:  # pylint: disable=broad-except  # already there
        pass


def prepare(ephemeral, scenario):
    # A new run id for every `molecule test` (prepare runs once per test): the names never collide with an
    # earlier run's outputs, which the lab (like the service) refuses to overwrite once it forgot their jobs.
    run = secrets.token_hex(3)
    with open(os.path.join(ephemeral, "run_id"), "w") as out:
        out.write(run)
    lab_config(job_seconds=int(os.environ.get("IPS_MOLECULE_JOB_SECONDS", "2")))
    for admin in admins().values():  # each scenario's checks see its own calls only
        admin.clear_requests()
    make_bucket()
    folder = os.path.join(env("IPS_LAB_SMB_EXPORT_DIR"), "mol-%s-%s" % (scenario, run))
    os.makedirs(folder, exist_ok=True)
    vdisk = os.path.join(folder, "pvs-%s.vhdx" % run)
    if scenario.startswith("pvs") and not os.path.exists(vdisk):
        make_vdisk(vdisk)
    return {"run_id": run, "folder": folder}


def azure_compute():
    from azure.identity import ClientSecretCredential
    from azure.mgmt.compute import ComputeManagementClient
    ca = env("IPS_LAB_AZURE_CA_PATH")
    cred = ClientSecretCredential(env("IPS_LAB_AZURE_TENANT_ID"), env("IPS_LAB_AZURE_CLIENT_ID"), env("IPS_LAB_AZURE_CLIENT_SECRET"),
                                  authority=env("IPS_LAB_AZURE_AUTHORITY"), disable_instance_discovery=True, connection_verify=ca)
    return ComputeManagementClient(cred, env("IPS_LAB_AZURE_SUBSCRIPTION_ID"), base_url=env("IPS_LAB_AZURE_URL"),
                                   credential_scopes=["https://management.azure.com/.default"], connection_verify=ca)


def gce_get(path):
    url = "%s/compute/v1/projects/%s/%s" % (env("IPS_LAB_GCE_URL").rstrip("/"), env("IPS_LAB_GCP_PROJECT"), path)
    req = urllib.request.Request(url, headers={"Authorization": "Bearer " + env("IPS_LAB_GCP_TOKEN")})
    with urllib.request.urlopen(req, timeout=30) as resp:
        return json.load(resp)


def daas_get(path):
    """GET /cvad/manage/<path> of the lab's DaaS stand-in, with a token of the lab's API client."""
    ctx = ssl.create_default_context(cafile=env("CITRIX_CLOUD_CA_PATH"))
    base, customer = env("CITRIX_CLOUD_API_URL").rstrip("/"), env("CITRIX_CLOUD_CUSTOMER_ID")
    form = urllib.parse.urlencode({"grant_type": "client_credentials", "client_id": env("CITRIX_CLOUD_CLIENT_ID"),
                                   "client_secret": env("CITRIX_CLOUD_CLIENT_SECRET")}).encode()
    req = urllib.request.Request("%s/cctrustoauth2/%s/tokens/clients" % (base, customer), data=form,
                                 headers={"Content-Type": "application/x-www-form-urlencoded"})
    with urllib.request.urlopen(req, context=ctx, timeout=30) as resp:
        token = json.load(resp)["access_token"]
    req = urllib.request.Request("%s/%s" % (env("IPS_LAB_DAAS_URL").rstrip("/"), path), headers={
        "Authorization": "CWSAuth bearer=" + token, "Citrix-CustomerId": customer, "Citrix-InstanceId": env("IPS_LAB_DAAS_SITE_ID"),
        "Accept": "application/json"})
    with urllib.request.urlopen(req, context=ctx, timeout=30) as resp:
        return json.load(resp)


def check_one(check):
    kind = check["kind"]
    if kind == "smb_file":
        path = os.path.join(env(check["share_dir_env"]), check["path"])
        size = os.path.getsize(path) if os.path.exists(path) else 0
        return size > 0, "%s (%d bytes)" % (path, size)
    if kind == "azure_disk":
        disk = azure_compute().disks.get(env("IPS_LAB_AZURE_RESOURCE_GROUP"), check["name"])
        want = check.get("tags", {})
        ok = disk.disk_state == "Unattached" and all((disk.tags or {}).get(k) == v for k, v in want.items())
        return ok, "Azure disk %s: %s, %s GiB" % (disk.id, disk.disk_state, disk.disk_size_gb)
    if kind == "aws_snapshot":
        import boto3
        ec2 = boto3.client("ec2", endpoint_url=env("IPS_LAB_MOTO_URL"), region_name=check.get("region", "us-east-1"),
                           aws_access_key_id=env("IPS_LAB_AWS_ACCESS_KEY_ID"), aws_secret_access_key=env("IPS_LAB_AWS_SECRET_ACCESS_KEY"))
        snaps = ec2.describe_snapshots(OwnerIds=["self"], Filters=[{"Name": "tag:Name", "Values": [check["name"]]}])["Snapshots"]
        done = [s for s in snaps if s["State"] == "completed"]
        return bool(done), "EBS snapshots named %s: %s" % (check["name"], ", ".join(s["SnapshotId"] for s in done) or "none")
    if kind == "gcp_image":
        image = gce_get("global/images/" + check["name"])
        return image.get("status") == "READY", "GCE image %s: %s, %s GB" % (check["name"], image.get("status"), image.get("diskSizeGb"))
    if kind == "gcp_disk":
        disk = gce_get("zones/%s/disks/%s" % (check["zone"], check["name"]))
        return disk.get("name") == check["name"], "GCE disk %s in %s from %s" % (check["name"], check["zone"], disk.get("sourceImage"))
    if kind == "pvs_vdisk":
        from ips_lab.common.admin import LabAdmin
        farm = LabAdmin.from_env(lab_env(), "winhost").pvs()
        found = [i for i, loc in farm["locators"].items() if loc["Name"] == check["name"]]
        devices = [n for n, d in farm["devices"].items() if d["collection"] == check["collection"]]
        booting = [n for n in devices if found and farm["devices"][n]["locators"] == found]
        return bool(found) and booting == devices and bool(devices), "PVS vDisk %s: %s, booted by %s of collection %s" % (
            check["name"], "registered" if found else "not registered", ", ".join(booting) or "no device", check["collection"])
    if kind == "real_hosts":  # first in a scenario's list: the checks after it call the stand-ins at their own URLs
        return came_by_real_hosts(check["hosts"])
    if kind == "daas_catalog":
        image = daas_get("MachineCatalogs/" + check["name"])["ProvisioningScheme"]["MasterImage"]
        return image["Name"].startswith(check["image_prefix"]), "DaaS catalog %s on %s" % (check["name"], image["XDPath"])
    raise SystemExit("unknown check kind %r" % kind)


def came_by_real_hosts(hosts):
    """Every call each stand-in of `hosts` ({part: host name pattern}) recorded since prepare came by a real host name
    the pattern matches (through the lab's proxy, not at the stand-in's own 127.0.0.1 URL), and there was one at least."""
    seen, stray = {}, []
    for part, admin in admins().items():
        if part not in hosts:
            continue
        names = [r.get("host") or "" for r in admin.requests() if not r["path"].startswith("/_lab")]
        seen[part] = sorted(set(names))
        stray.extend("%s by %s" % (part, n or "no host") for n in seen[part] if not re.match(r"\A(?:%s)\Z" % hosts[part], n))
        if not names:
            stray.append("%s: no call at all" % part)
    return not stray, "calls by real host names: %s%s" % (seen, "; not: " + ", ".join(stray) if stray else "")


def writes_since_prepare():
    """Every write a stand-in recorded since prepare cleared the logs, leaving out token requests and the
    Citrix Cloud service's dryRun validations (what check mode is allowed to send)."""
    found = []
    for part, admin in admins().items():
        for r in admin.requests():
            if r["method"] not in WRITES or re.search(r"/tokens/clients$|/oauth2/|/token", r["path"]):
                continue
            if part == "citrix" and "dryRun=true" in (r.get("query") or ""):
                continue
            found.append("%s %s %s" % (part, r["method"], r["path"]))
    return found


def main(argv):
    if argv[1] == "prepare":
        print(json.dumps(prepare(argv[2], argv[3])))
        return 0
    if argv[1] == "unchanged":
        found = writes_since_prepare()
        print(json.dumps({"writes": found}))
        return 1 if found else 0
    results = []
    for check in json.loads(argv[2]):
        try:
            ok, what = check_one(check)
        except Exception as exc:  # pylint: disable=broad-except  # a missing artifact is a failed check
            ok, what = False, "%s %s: %s" % (check["kind"], check.get("name", check.get("path")), exc)
        results.append({"ok": ok, "what": what})
    print(json.dumps({"checks": results}))
    return 0 if all(r["ok"] for r in results) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
