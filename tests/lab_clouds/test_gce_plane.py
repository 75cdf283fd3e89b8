"""The GCE plane with google-auth's AuthorizedSession: a sparse 1 GiB disk.raw as tar.gz in the
GCS emulator becomes a READY image; bad archives end in a failed operation; disks from images."""

import io
import os
import shutil
import subprocess
import tarfile
import uuid

import pytest

GIB = 1024 * 1024 * 1024
BUCKET = "ips-lab-images"

pytestmark = pytest.mark.timeout(120)


@pytest.fixture(scope="module")
def gce(cloud_lab, tmp_path_factory):
    from google.api_core.client_options import ClientOptions
    from google.auth.credentials import AnonymousCredentials
    from google.auth.transport.requests import AuthorizedSession
    from google.cloud import storage
    from google.oauth2.credentials import Credentials

    env = cloud_lab.env
    gcs = storage.Client(project="ips-lab", credentials=AnonymousCredentials(), client_options=ClientOptions(api_endpoint=env["IPS_LAB_GCS_URL"]))
    bucket = gcs.create_bucket(BUCKET)

    class Gce(object):
        pass

    gce = Gce()
    gce.env, gce.bucket, gce.tmp = env, bucket, tmp_path_factory.mktemp("gce")
    gce.session = AuthorizedSession(Credentials(token=env["IPS_LAB_GCP_TOKEN"]))  # any token source that sends the lab's token
    gce.base = "%s/compute/v1/projects/%s" % (env["IPS_LAB_GCE_URL"], env["IPS_LAB_GCP_PROJECT"])
    return gce


def sparse_raw_tar_gz(folder, size=GIB, member="disk.raw", extra_member=False):
    """`tar --format=oldgnu -Sczf` of a sparse raw disk of `size` bytes holding 3 MiB of data."""
    work = folder / uuid.uuid4().hex
    work.mkdir()
    raw = work / member
    with open(raw, "wb") as out:
        out.truncate(size)
        out.seek(64 * 1024 * 1024)
        out.write(os.urandom(2 * 1024 * 1024))
        out.seek(size - 1024 * 1024)
        out.write(b"\x55" * 1024 * 1024)
    names = [member]
    if extra_member:
        (work / "README").write_text("extra\n")
        names.append("README")
    archive = work / "image.tar.gz"
    subprocess.run(["tar", "--format=oldgnu", "-Sczf", str(archive), "-C", str(work)] + names, check=True)
    raw.unlink()
    return archive


def upload(gce, archive, name=None):
    name = name or "%s.tar.gz" % uuid.uuid4().hex
    gce.bucket.blob(name).upload_from_filename(str(archive))
    return "https://storage.googleapis.com/%s/%s" % (BUCKET, name)


def insert_and_wait(gce, name, source, **extra):
    body = dict(name=name, rawDisk={"source": source}, **extra)
    answer = gce.session.post(gce.base + "/global/images", json=body, timeout=30)
    assert answer.status_code == 200, answer.text
    op = answer.json()
    assert op["kind"] == "compute#operation" and op["status"] in ("PENDING", "RUNNING")
    done = gce.session.post(gce.base + "/global/operations/%s/wait" % op["name"], timeout=60).json()
    assert done["status"] == "DONE"
    return done


def test_needs_the_lab_token(gce):
    import requests

    assert requests.get(gce.base + "/global/images", timeout=10).status_code == 401
    wrong = requests.get(gce.base + "/global/images", headers={"Authorization": "Bearer nope"}, timeout=10)
    assert wrong.status_code == 401 and wrong.json()["error"]["status"] == "UNAUTHENTICATED"
    assert gce.session.get(gce.base + "/global/images", timeout=10).status_code == 200


@pytest.mark.skipif(not shutil.which("tar"), reason="GNU tar makes the sparse archive")
def test_image_from_sparse_raw_then_disk_and_template(gce):
    archive = sparse_raw_tar_gz(gce.tmp)
    assert archive.stat().st_size < 16 * 1024 * 1024
    source = upload(gce, archive)
    done = insert_and_wait(gce, "win-img-1", source, guestOsFeatures=[{"type": "WINDOWS"}, {"type": "UEFI_COMPATIBLE"}],
                           labels={"ips-job": "abc"}, storageLocations=["us"],
                           licenses=["https://compute.googleapis.com/compute/v1/projects/windows-cloud/global/licenses/windows-server-2022-dc"])
    assert "error" not in done, done
    image = gce.session.get(gce.base + "/global/images/win-img-1", timeout=10).json()
    assert image["status"] == "READY" and image["diskSizeGb"] == "1" and image["labels"] == {"ips-job": "abc"}
    assert image["archiveSizeBytes"] == str(archive.stat().st_size)
    assert {"type": "WINDOWS"} in image["guestOsFeatures"]
    assert "win-img-1" in [i["name"] for i in gce.session.get(gce.base + "/global/images", timeout=10).json()["items"]]

    again = gce.session.post(gce.base + "/global/images", json={"name": "win-img-1", "rawDisk": {"source": source}}, timeout=10)
    assert again.status_code == 409 and again.json()["error"]["errors"][0]["reason"] == "alreadyExists"

    disks = gce.base + "/zones/us-central1-a/disks"
    small = gce.session.post(disks, json={"name": "d0", "sourceImage": "global/images/win-img-1", "sizeGb": "0"}, timeout=10)
    assert small.status_code == 400
    answer = gce.session.post(disks, json={"name": "win-disk-1", "sourceImage": image["selfLink"], "sizeGb": "2",
                                           "type": "zones/us-central1-a/diskTypes/pd-balanced"}, timeout=10)
    assert answer.status_code == 200, answer.text
    op = gce.session.post(gce.base + "/zones/us-central1-a/operations/%s/wait" % answer.json()["name"], timeout=60).json()
    assert op["status"] == "DONE" and "error" not in op
    disk = gce.session.get(disks + "/win-disk-1", timeout=10).json()
    assert disk["status"] == "READY" and disk["sizeGb"] == "2" and disk["sourceImageId"] == image["id"]
    assert gce.session.get(gce.base + "/zones/nowhere-1/disks", timeout=10).status_code == 404
    template_rules(gce)


def template_rules(gce):
    """instanceTemplates of the READY image win-img-1 and the READY disk win-disk-1 (made above)."""
    templates = gce.base + "/global/instanceTemplates"

    def body(name="tpl-1", **props):
        init = {"sourceImage": "global/images/win-img-1", "diskType": "pd-balanced", "diskSizeGb": "2"}
        properties = {"machineType": "n2-standard-4", "disks": [{"boot": True, "autoDelete": True, "initializeParams": init}],
                      "networkInterfaces": [{"network": "global/networks/default"}]}
        return {"name": name, "description": "MCS", "properties": dict(properties, **props)}

    answer = gce.session.post(templates, json=body(), timeout=10)
    assert answer.status_code == 200, answer.text
    op = gce.session.post(gce.base + "/global/operations/%s/wait" % answer.json()["name"], timeout=60).json()
    assert op["status"] == "DONE" and "error" not in op and op["targetLink"].endswith("/global/instanceTemplates/tpl-1")
    made = gce.session.get(templates + "/tpl-1", timeout=10).json()
    assert made["kind"] == "compute#instanceTemplate" and made["properties"]["machineType"] == "n2-standard-4"
    assert made["properties"]["disks"][0]["initializeParams"]["sourceImage"] == "global/images/win-img-1" and "pending" not in made
    assert [t["name"] for t in gce.session.get(templates, timeout=10).json()["items"]] == ["tpl-1"]
    again = gce.session.post(templates, json=body(), timeout=10)
    assert again.status_code == 409 and again.json()["error"]["errors"][0]["reason"] == "alreadyExists"
    on_disk = gce.session.post(templates, json=body("tpl-disk", disks=[{"boot": True, "source": "win-disk-1"}]), timeout=10)
    assert on_disk.status_code == 200, on_disk.text
    # while its operation runs the template is not there yet (and cannot be deleted); then it is
    if on_disk.json()["status"] != "DONE" and gce.session.get(templates + "/tpl-disk", timeout=10).status_code != 200:
        assert gce.session.delete(templates + "/tpl-disk", timeout=10).status_code == 404
    gce.session.post(gce.base + "/global/operations/%s/wait" % on_disk.json()["name"], timeout=60)
    bad = {
        "zonal machine type URL": (400, body("t2", machineType="zones/us-central1-a/machineTypes/n2-standard-4")),
        "no machine type": (400, body("t2", machineType=None)),
        "no boot disk": (400, body("t2", disks=[{"initializeParams": {"sourceImage": "global/images/win-img-1"}}])),
        "two boot disks": (400, body("t2", disks=[{"boot": True, "source": "win-disk-1"}] * 2)),
        "missing image": (404, body("t2", disks=[{"boot": True, "initializeParams": {"sourceImage": "global/images/no-such"}}])),
        "disk smaller than the image": (400, body("t2", disks=[{"boot": True, "initializeParams": {
            "sourceImage": "global/images/win-img-1", "diskSizeGb": "0"}}])),
        "disk type as a URL": (400, body("t2", disks=[{"boot": True, "initializeParams": {
            "sourceImage": "global/images/win-img-1", "diskType": "zones/us-central1-a/diskTypes/pd-ssd"}}])),
        "missing disk": (404, body("t2", disks=[{"boot": True, "source": "no-such-disk"}])),
        "source and initializeParams": (400, body("t2", disks=[{
            "boot": True, "source": "win-disk-1", "initializeParams": {"sourceImage": "global/images/win-img-1"}}])),
        "unknown property": (400, body("t2", colour="blue")),
        "bad name": (400, body("T2")),
    }
    for case, (status, payload) in bad.items():
        payload["properties"] = dict((k, v) for k, v in payload["properties"].items() if v is not None)
        answer = gce.session.post(templates, json=payload, timeout=10)
        assert answer.status_code == status, (case, answer.text)
        assert answer.json()["error"]["code"] == status
    assert gce.session.get(templates + "/t2", timeout=10).status_code == 404
    gone = gce.session.delete(templates + "/tpl-disk", timeout=10)
    assert gone.status_code == 200 and gone.json()["operationType"] == "delete"
    assert gce.session.get(templates + "/tpl-disk", timeout=10).status_code == 404


@pytest.mark.skipif(not shutil.which("tar"), reason="GNU tar makes the sparse archive")
@pytest.mark.parametrize("case", ["member-name", "not-gib", "two-members", "not-gzip", "missing"])
def test_bad_sources_fail_the_operation(gce, case):
    if case == "member-name":
        source, words = upload(gce, sparse_raw_tar_gz(gce.tmp, member="disk.img")), "disk.raw"
    elif case == "not-gib":
        source, words = upload(gce, sparse_raw_tar_gz(gce.tmp, size=GIB + 1024 * 1024)), "whole number of GiB"
    elif case == "two-members":
        source, words = upload(gce, sparse_raw_tar_gz(gce.tmp, extra_member=True)), "more than one member"
    elif case == "not-gzip":
        plain = io.BytesIO()
        with tarfile.open(fileobj=plain, mode="w") as tar:
            info = tarfile.TarInfo("disk.raw")
            info.size = 0
            tar.addfile(info)
        path = gce.tmp / "plain.tar"
        path.write_bytes(plain.getvalue())
        source, words = upload(gce, path), "gzip"
    else:
        source, words = "gs://%s/no-such-object.tar.gz" % BUCKET, "not found"
    name = "bad-%s" % case
    done = insert_and_wait(gce, name, source)
    assert done["error"]["errors"][0]["message"] and words in done["error"]["errors"][0]["message"], done
    assert gce.session.get(gce.base + "/global/images/" + name, timeout=10).status_code == 404


def test_insert_request_rules(gce):
    images = gce.base + "/global/images"
    source = "gs://%s/x.tar.gz" % BUCKET
    for body in ({"name": "Upper-Case", "rawDisk": {"source": source}}, {"name": "a" * 64, "rawDisk": {"source": source}},
                 {"name": "ok-name", "rawDisk": {"source": "http://example.com/x.tar.gz"}}, {"name": "ok-name"},
                 {"name": "ok-name", "rawDisk": {"source": source}, "colour": "blue"},
                 {"name": "ok-name", "rawDisk": {"source": source}, "guestOsFeatures": [{"type": "FAST"}]}):
        answer = gce.session.post(images, json=body, timeout=10)
        assert answer.status_code == 400, body
        assert answer.json()["error"]["code"] == 400
    assert gce.session.get(images + "/nothing-here", timeout=10).status_code == 404
