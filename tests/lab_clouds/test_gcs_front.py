"""The Cloud Storage front (in the GCE plane, planes/gcs_front.py) with Cloud Storage's own rules, driven with
google-cloud-storage and plain requests at IPS_LAB_GCE_URL. Each rule here was a leniency of the bare emulator
(every one of these requests succeeded on IPS_LAB_GCS_URL), and each answer is the one Cloud Storage documents:

- auth: https://cloud.google.com/storage/docs/json_api/v1/status-codes (401 "required" / "authError")
- chunks: https://cloud.google.com/storage/docs/performing-resumable-uploads ("chunk size ... multiple of 256 KiB",
  the 308 Range tells what was persisted)
- compose: https://cloud.google.com/storage/docs/composing-objects ("between 1 and 32 source objects")
- preconditions: https://cloud.google.com/storage/docs/request-preconditions (412 Precondition Failed,
  ifGenerationMatch=0 for "must not exist")
- hashes: https://cloud.google.com/storage/docs/hashes-etags (a mismatch is refused, the object not written)
"""

import base64
import hashlib
import uuid

import pytest
import requests

KIB = 1024
BUCKET = "ips-lab-front"

pytestmark = pytest.mark.timeout(120)


@pytest.fixture(scope="module")
def front(cloud_lab):
    from google.api_core.client_options import ClientOptions
    from google.auth.credentials import AnonymousCredentials
    from google.cloud import storage
    from google.oauth2.credentials import Credentials

    env = cloud_lab.env
    bare = storage.Client(project="p", credentials=AnonymousCredentials(), client_options=ClientOptions(api_endpoint=env["IPS_LAB_GCS_URL"]))
    try:
        bare.create_bucket(BUCKET)
    except Exception:  # pylint: disable=broad-except  # a rerun on the same lab
        pass

    class Front(object):
        url = env["IPS_LAB_GCE_URL"]
        token = env["IPS_LAB_GCP_TOKEN"]
        client = storage.Client(project="p", credentials=Credentials(env["IPS_LAB_GCP_TOKEN"]),
                                client_options=ClientOptions(api_endpoint=env["IPS_LAB_GCE_URL"]))
        auth = {"Authorization": "Bearer " + env["IPS_LAB_GCP_TOKEN"]}

    return Front()


def media(front, name, data, headers=None, params=None):
    query = {"uploadType": "media", "name": name}
    query.update(params or {})
    return requests.post("%s/upload/storage/v1/b/%s/o" % (front.url, BUCKET), params=query, data=data,
                         headers=dict(front.auth, **(headers or {})))


def test_calls_need_the_lab_token(front):
    none = requests.get("%s/storage/v1/b/%s/o" % (front.url, BUCKET))
    assert none.status_code == 401 and none.json()["error"]["errors"][0]["reason"] == "required"
    wrong = requests.get("%s/storage/v1/b/%s/o" % (front.url, BUCKET), headers={"Authorization": "Bearer not-the-token"})
    assert wrong.status_code == 401 and wrong.json()["error"]["errors"][0]["reason"] == "authError"
    assert requests.get("%s/storage/v1/b/%s/o" % (front.url, BUCKET), headers=front.auth).status_code == 200


def test_the_client_library_works_through_the_front(front):
    blob = front.client.bucket(BUCKET).blob("lib-%s" % uuid.uuid4().hex[:6], chunk_size=256 * KIB)
    data = bytes(range(256)) * (3 * 1024 + 7)  # 3 chunks and a bit: resumable
    blob.upload_from_string(data)
    assert blob.download_as_bytes() == data


def test_non_final_resumable_chunks_follow_the_256_kib_rule(front):
    name = "chunks-%s" % uuid.uuid4().hex[:6]
    start = requests.post("%s/upload/storage/v1/b/%s/o" % (front.url, BUCKET), params={"uploadType": "resumable", "name": name},
                          headers=dict(front.auth, **{"Content-Type": "application/json"}), data="{}")
    assert start.status_code == 200, start.text
    session = start.headers["Location"]
    assert session.startswith(front.url)
    small = requests.put(session, data=b"a" * (100 * KIB), headers=dict(front.auth, **{"Content-Range": "bytes 0-102399/*"}))
    assert small.status_code == 400 and "262144" in small.json()["error"]["message"]
    # 300 KiB: Cloud Storage keeps 256 KiB and says so in Range
    odd = requests.put(session, data=b"b" * (300 * KIB), headers=dict(front.auth, **{"Content-Range": "bytes 0-307199/*"}))
    assert odd.status_code == 308, odd.text
    assert odd.headers["Range"] == "bytes=0-262143"
    last = requests.put(session, data=b"c" * (10 * KIB), headers=dict(front.auth, **{"Content-Range": "bytes 262144-272383/272384"}))
    assert last.status_code in (200, 201), last.text
    assert int(last.json()["size"]) == 272384


def test_compose_takes_at_most_32_sources(front):
    part = "part-%s" % uuid.uuid4().hex[:6]
    assert media(front, part, b"x" * 512).status_code == 200
    body = {"sourceObjects": [{"name": part}] * 33, "destination": {"contentType": "application/octet-stream"}}
    url = "%s/storage/v1/b/%s/o/%s/compose" % (front.url, BUCKET, "composed-" + part)
    many = requests.post(url, json=body, headers=front.auth)
    assert many.status_code == 400 and "exceeds the maximum (32)" in many.json()["error"]["message"]
    body["sourceObjects"] = body["sourceObjects"][:32]
    ok = requests.post(url, json=body, headers=front.auth)
    assert ok.status_code == 200, ok.text
    assert int(ok.json()["size"]) == 32 * 512
    # the same through the client library's Blob.compose
    from google.api_core.exceptions import BadRequest

    bucket = front.client.bucket(BUCKET)
    with pytest.raises(BadRequest) as caught:
        bucket.blob("lib-composed-" + part).compose([bucket.blob(part)] * 33)
    assert "exceeds the maximum (32)" in str(caught.value)
    composed = bucket.blob("lib-composed-" + part)
    composed.compose([bucket.blob(part)] * 2)
    assert composed.download_as_bytes() == b"x" * 1024


def test_preconditions_hold_or_412(front):
    name = "pre-%s" % uuid.uuid4().hex[:6]
    first = media(front, name, b"one", params={"ifGenerationMatch": "0"})
    assert first.status_code == 200, first.text
    generation = first.json()["generation"]
    again = media(front, name, b"two", params={"ifGenerationMatch": "0"})
    assert again.status_code == 412 and again.json()["error"]["errors"][0]["reason"] == "conditionNotMet"
    stale = media(front, name, b"two", params={"ifGenerationMatch": str(int(generation) + 1)})
    assert stale.status_code == 412
    assert media(front, name, b"two", params={"ifGenerationMatch": generation}).status_code == 200
    gone = requests.delete("%s/storage/v1/b/%s/o/%s" % (front.url, BUCKET, name), params={"ifGenerationMatch": generation},
                           headers=front.auth)
    assert gone.status_code == 412  # the object has a newer generation now


def test_a_wrong_hash_is_refused(front):
    data = b"hash me" * 1000
    wrong_md5 = base64.b64encode(hashlib.md5(b"other").digest()).decode()
    refused = media(front, "hash-%s" % uuid.uuid4().hex[:6], data, headers={"X-Goog-Hash": "md5=" + wrong_md5})
    assert refused.status_code == 400 and "doesn't match calculated MD5" in refused.json()["error"]["message"]
    # the client library's multipart upload with a crc32c that is not the data's (checksum=None: by default the
    # library puts its own, right, crc32c into the metadata)
    blob = front.client.bucket(BUCKET).blob("hash-lib-%s" % uuid.uuid4().hex[:6])
    blob.crc32c = "AAAAAA=="
    from google.api_core.exceptions import BadRequest
    with pytest.raises(BadRequest) as caught:
        blob.upload_from_string(data, checksum=None)
    assert "CRC32C" in str(caught.value)
    good_md5 = base64.b64encode(hashlib.md5(data).digest()).decode()
    assert media(front, "hash-ok-%s" % uuid.uuid4().hex[:6], data, headers={"X-Goog-Hash": "md5=" + good_md5}).status_code == 200


def test_the_final_request_of_a_resumable_upload_is_checked_against_the_whole_object(front):
    """X-Goog-Hash on the last request of a resumable upload is the whole object's ("Resumable uploads ... you can
    send the x-goog-hash header ... with the final request, containing the hash of the entire object",
    cloud.google.com/storage/docs/performing-resumable-uploads and hashes-etags): a hash of anything else (here: of
    the last chunk only) is 400 and no object is made; the right CRC32C and MD5 make it."""
    import google_crc32c

    first, second, last = b"\x01" * (256 * KIB), b"\x02" * (300 * KIB), b"\x03" * (5 * KIB)  # the front keeps 256 of the 300
    kept = first + second[:256 * KIB]
    whole = kept + last

    def b64(digest):
        return base64.b64encode(digest).decode("ascii")

    def crc(data):
        return b64(google_crc32c.Checksum(data).digest())

    for given, refused in (("crc32c=" + crc(last), "CRC32C"), ("md5=" + b64(hashlib.md5(last).digest()), "MD5"),
                           ("crc32c=%s,md5=%s" % (crc(whole), b64(hashlib.md5(whole).digest())), None)):
        name = "resumable-hash-%s" % uuid.uuid4().hex[:6]
        start = requests.post("%s/upload/storage/v1/b/%s/o" % (front.url, BUCKET), params={"uploadType": "resumable", "name": name},
                              headers=dict(front.auth, **{"Content-Type": "application/json"}), data="{}")
        session = start.headers["Location"]
        one = requests.put(session, data=first, headers=dict(front.auth, **{"Content-Range": "bytes 0-262143/*"}))
        two = requests.put(session, data=second, headers=dict(front.auth, **{"Content-Range": "bytes 262144-569343/*"}))
        assert (one.status_code, two.status_code, two.headers["Range"]) == (308, 308, "bytes=0-524287"), two.text
        end = requests.put(session, data=last, headers=dict(front.auth, **{
            "Content-Range": "bytes %d-%d/%d" % (len(kept), len(whole) - 1, len(whole)), "X-Goog-Hash": given}))
        got = requests.get("%s/storage/v1/b/%s/o/%s" % (front.url, BUCKET, name), headers=front.auth)
        if refused:
            assert end.status_code == 400 and "doesn't match calculated %s" % refused in end.json()["error"]["message"], end.text
            assert got.status_code == 404, got.text
        else:
            assert end.status_code in (200, 201), end.text
            assert got.status_code == 200 and int(got.json()["size"]) == len(whole)
