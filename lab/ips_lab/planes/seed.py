"""Seed the planes with what an upload leaves behind, for tests and demos (stdlib only):

    from ips_lab.planes.seed import azure_uploaded_disk, gce_ready_image
    disk = azure_uploaded_disk(env, "win11-up")              # an Unattached managed disk with a valid fixed-VHD footer
    image = gce_ready_image(env, "win11-image", tmp_dir)     # a READY image from a sparse 1 GiB disk.raw tar.gz

`env` is the lab's env file as a dict. Both raise SeedError with the plane's answer when a step fails.
"""

import json
import os
import ssl
import struct
import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid

from . import vhd_footer

MIB = 1024 * 1024
GIB = 1024 * MIB
ARM_API = "2024-03-02"
BUCKET = "ips-lab-uploads"


class SeedError(RuntimeError):
    pass


def _call(method, url, body=None, headers=None, context=None, form=False, raw=None):
    headers = dict(headers or {})
    data = raw
    if body is not None:
        data = urllib.parse.urlencode(body).encode() if form else json.dumps(body).encode()
        headers["Content-Type"] = "application/x-www-form-urlencoded" if form else "application/json"
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}), urllib.request.HTTPSHandler(context=context))
    try:
        with opener.open(urllib.request.Request(url, data=data, method=method, headers=headers), timeout=120) as answer:
            text = answer.read()
            return answer.status, dict(answer.headers), json.loads(text) if text and text[:1] in b"{[" else None
    except urllib.error.HTTPError as exc:
        raise SeedError("%s %s -> %s: %s" % (method, url.split("?")[0], exc.code, exc.read()[:500]))


def fixed_vhd_footer(current_size):
    """A fixed-VHD footer for a disk of `current_size` bytes (what an uploader writes last)."""
    footer = bytearray(vhd_footer.FOOTER_SIZE)
    footer[0:8] = vhd_footer.COOKIE
    struct.pack_into(">IIQI", footer, 8, 2, 0x00010000, 0xFFFFFFFFFFFFFFFF, int(time.time()) - 946684800)
    footer[28:32], footer[36:40] = b"ilab", b"Wi2k"
    struct.pack_into(">I", footer, 32, 0x00010000)
    struct.pack_into(">QQ", footer, 40, current_size, current_size)
    struct.pack_into(">HBB", footer, 56, max(1, current_size // (16 * 63 * 512)), 16, 63)
    struct.pack_into(">I", footer, 60, vhd_footer.DISK_TYPE_FIXED)
    footer[68:84] = uuid.uuid4().bytes
    struct.pack_into(">I", footer, 64, vhd_footer.checksum(footer))
    return bytes(footer)


def azure_uploaded_disk(env, name, resource_group=None, size=20 * MIB + 512, finish=True):
    """Create a managed disk for upload, write a first MiB and the footer through a Write SAS, revoke access.

    With finish=False the disk is left in ActiveUpload (an upload that never finished). Returns the disk.
    """
    base = env["IPS_LAB_AZURE_URL"]
    ctx = ssl.create_default_context(cafile=env["IPS_LAB_AZURE_CA_PATH"])
    _s, _h, token = _call("POST", "%s/%s/oauth2/v2.0/token" % (base, env["IPS_LAB_AZURE_TENANT_ID"]), {
        "grant_type": "client_credentials", "client_id": env["IPS_LAB_AZURE_CLIENT_ID"], "client_secret": env["IPS_LAB_AZURE_CLIENT_SECRET"],
        "scope": "https://management.azure.com/.default"}, context=ctx, form=True)
    auth = {"Authorization": "Bearer " + token["access_token"]}
    disk_url = "%s/subscriptions/%s/resourceGroups/%s/providers/Microsoft.Compute/disks/%s" % (
        base, env["IPS_LAB_AZURE_SUBSCRIPTION_ID"], resource_group or env["IPS_LAB_AZURE_RESOURCE_GROUP"], name)
    q = "?api-version=" + ARM_API
    _call("PUT", disk_url + q, {"location": env["IPS_LAB_AZURE_LOCATION"], "sku": {"name": "Standard_LRS"},
                                "properties": {"osType": "Windows", "hyperVGeneration": "V2",
                                               "creationData": {"createOption": "Upload", "uploadSizeBytes": size}}}, auth, ctx)
    _s, headers, _b = _call("POST", disk_url + "/beginGetAccess" + q, {"access": "Write", "durationInSeconds": 3600}, auth, ctx)
    _s, _h, grant = _call("GET", headers["Location"], headers=auth, context=ctx)
    sas = grant["accessSAS"]
    page = {"x-ms-page-write": "update", "x-ms-version": "2021-08-06"}
    data = os.urandom(MIB)
    _call("PUT", sas + "&comp=page", headers=dict(page, **{"x-ms-range": "bytes=0-%d" % (MIB - 1)}), context=ctx, raw=data)
    _call("PUT", sas + "&comp=page", headers=dict(page, **{"x-ms-range": "bytes=%d-%d" % (size - 512, size - 1)}), context=ctx,
          raw=fixed_vhd_footer(size - 512))
    if finish:
        _call("POST", disk_url + "/endGetAccess" + q, raw=b"", headers=auth, context=ctx)
    return _call("GET", disk_url + q, headers=auth, context=ctx)[2]


def gce_ready_image(env, name, tmp_dir):
    """Put a sparse 1 GiB disk.raw (oldgnu tar.gz) into the GCS emulator and make a READY image of it; returns the image."""
    work = os.path.join(str(tmp_dir), "seed-%s" % uuid.uuid4().hex[:8])
    os.makedirs(work)
    raw = os.path.join(work, "disk.raw")
    with open(raw, "wb") as out:
        out.truncate(GIB)
        out.write(os.urandom(MIB))
    archive = os.path.join(work, "image.tar.gz")
    subprocess.run(["tar", "--format=oldgnu", "-Sczf", archive, "-C", work, "disk.raw"], check=True)
    gcs = env["IPS_LAB_GCS_URL"]
    try:
        _call("POST", "%s/storage/v1/b?project=ips-lab" % gcs, {"name": BUCKET})
    except SeedError as exc:
        if "409" not in str(exc):
            raise
    obj = "%s.tar.gz" % name
    with open(archive, "rb") as src:
        _call("POST", "%s/upload/storage/v1/b/%s/o?uploadType=media&name=%s" % (gcs, BUCKET, urllib.parse.quote(obj)),
              headers={"Content-Type": "application/gzip"}, raw=src.read())
    base = "%s/compute/v1/projects/%s" % (env["IPS_LAB_GCE_URL"], env["IPS_LAB_GCP_PROJECT"])
    auth = {"Authorization": "Bearer " + env["IPS_LAB_GCP_TOKEN"]}
    _s, _h, op = _call("POST", base + "/global/images", {"name": name, "rawDisk": {"source": "gs://%s/%s" % (BUCKET, obj)}}, auth)
    _s, _h, op = _call("POST", base + "/global/operations/%s/wait" % op["name"], headers=auth, raw=b"")
    if op.get("error"):
        raise SeedError("image %s: %s" % (name, op["error"]))
    return _call("GET", base + "/global/images/" + name, headers=auth)[2]
