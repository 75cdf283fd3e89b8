"""Wrong option values, types, names, paths and locations given to the modules: each fails the task with one line
naming the option and the fix, no traceback, in bounded time, before any network connection, source untouched."""

import os
import socket
import subprocess

import pytest

from badinput_helpers import assert_clear_failure, fingerprint

MIB = 1024 * 1024
AZURE = {"subscription_id": "6f1c1a9e-0b7e-4c44-9d0b-5d6f1b2a3c4d", "resource_group": "rg-images", "location": "westeurope",
         "disk_name": "win11-2026-01", "tenant_id": "tenant", "client_id": "client", "client_secret": "NotShownAzure1"}
AWS = {"region": "us-east-1", "access_key_id": "AKIAEXAMPLE", "secret_access_key": "NotShownAws1", "snapshot_name": "win11"}
GCP = {"project": "example-project", "bucket": "ips-images", "image_name": "win11-2026-01", "token": "NotShownGcp1"}
AUTH = {"customer_id": "cust", "client_id": "cid", "client_secret": "NotShownCitrix1", "api_url": "https://127.0.0.1:9/"}


@pytest.fixture(scope="module")
def image(tmp_path_factory):
    path = tmp_path_factory.mktemp("img") / "small.vhdx"
    subprocess.run(["qemu-img", "create", "-f", "vhdx", str(path), "8M"], check=True, capture_output=True)
    return str(path)


@pytest.fixture()
def upload(run_module, image, tmp_path):
    """Run ips_upload with `changes` applied to a valid Azure upload; the image is checked unchanged afterwards."""
    before = fingerprint(image)

    def run(target="azure", **changes):
        args = {"source": {"location": image}, "target": target, "journal_dir": str(tmp_path / "journals"),
                "azure": dict(AZURE), "aws": dict(AWS), "gcp": dict(GCP)}
        for key, value in changes.items():
            if "__" in key:
                outer, inner = key.split("__")
                args[outer] = dict(args[outer], **{inner: value})
            else:
                args[key] = value
        answer = run_module("ips_upload", args)
        assert fingerprint(image) == before, "the source changed"
        return answer
    return run


def test_valid_options_do_reach_the_network(upload):
    """The control case: with nothing wrong the module goes on to Azure, which the guard refuses, so the guard works."""
    answer = upload()
    assert answer.get("failed") and answer.connections, answer


# option change -> words the message must hold
RANGE_CASES = [
    (dict(concurrency=0), "concurrency must be from 1 to 64"),
    (dict(concurrency=65), "concurrency must be from 1 to 64"),
    (dict(request_timeout=0), "request_timeout must be from 1 to 3600"),
    (dict(request_timeout=-5), "request_timeout must be from 1 to 3600"),
    (dict(request_timeout=1e9), "request_timeout must be from 1 to 3600"),
    (dict(wait_timeout=0), "wait_timeout must be from 1"),
    (dict(wait_timeout=10 ** 9), "wait_timeout must be from 1"),
    (dict(retries=0), "retries must be from 1 to 100"),
    (dict(retries=1000), "retries must be from 1 to 100"),
    (dict(rate_limit=-1), "rate_limit must be from 0.01"),
    (dict(rate_limit=-0.5), "rate_limit must be from 0.01"),
    (dict(source__port=0), "source.port must be from 1 to 65535"),
    (dict(source__port=70000), "source.port must be from 1 to 65535"),
    (dict(source__port=-445), "source.port must be from 1 to 65535"),
    (dict(source__connections=0), "source.connections must be from 1 to 16"),
    (dict(source__connections=200), "source.connections must be from 1 to 16"),
    (dict(azure__sas_duration=10), "azure.sas_duration must be from 300"),
    (dict(target="aws", aws__snapshot_timeout=5), "aws.snapshot_timeout must be from 10 to 4320"),
    (dict(target="aws", aws__snapshot_timeout=5000), "aws.snapshot_timeout must be from 10 to 4320"),
    (dict(target="gcp", gcp__compression_level=0), "gcp.compression_level must be from 1 to 9"),
    (dict(target="gcp", gcp__compression_level=10), "gcp.compression_level must be from 1 to 9"),
]


@pytest.mark.parametrize("changes,words", RANGE_CASES, ids=[w.split(" must")[0] + "=" + str(list(c.values())[-1]) for c, w in RANGE_CASES])
def test_upload_ranges(upload, changes, words):
    assert_clear_failure(upload(**changes), words, "set it within that range")


TYPE_CASES = [
    (dict(concurrency="many"), "concurrency"),
    (dict(verify="maybe"), "verify"),
    (dict(request_timeout="fast"), "request_timeout"),
    (dict(target="dropbox"), "target"),
    (dict(overwrite="sometimes"), "overwrite"),
    (dict(azure="notadict"), "azure"),
    (dict(source="just-a-path"), "source"),
    (dict(source__port="smb"), "port"),
    (dict(azure__hyper_v_generation="V3"), "hyper_v_generation"),
    (dict(target="gcp", gcp__compression_level="max"), "compression_level"),
    (dict(unknown_option=1), "unknown_option"),
]


@pytest.mark.parametrize("changes,words", TYPE_CASES, ids=[w for _c, w in TYPE_CASES])
def test_upload_types(upload, changes, words):
    assert_clear_failure(upload(**changes), words)


NAME_CASES = [
    (dict(azure__disk_name="disks/win11"), "azure.disk_name 'disks/win11' is not a valid name"),
    (dict(azure__disk_name="-win11"), "azure.disk_name"),
    (dict(azure__disk_name="win11."), "azure.disk_name"),
    (dict(azure__disk_name="w" * 81), "azure.disk_name"),
    (dict(azure__disk_name="win 11"), "azure.disk_name"),
    (dict(azure__resource_group="rg/images"), "azure.resource_group"),
    (dict(azure__resource_group="rg."), "azure.resource_group"),
    (dict(azure__subscription_id="my-subscription"), "azure.subscription_id"),
    (dict(azure__location="west/europe"), "azure.location"),
    (dict(target="gcp", gcp__image_name="Win11_Image"), "gcp.image_name"),
    (dict(target="gcp", gcp__image_name="1win11"), "gcp.image_name"),
    (dict(target="gcp", gcp__image_name="w" * 64), "gcp.image_name"),
    (dict(target="gcp", gcp__bucket="B"), "gcp.bucket"),
    (dict(target="gcp", gcp__bucket="gs://ips-images"), "gcp.bucket"),
    (dict(target="gcp", gcp__project="My Project"), "gcp.project"),
    (dict(target="gcp", gcp__family="Win_11"), "gcp.family"),
    (dict(target="aws", aws__region="mars-north-1"), "aws.region 'mars-north-1' is not an AWS region"),
    (dict(target="aws", aws__region="us-east-99"), "aws.region"),
    (dict(target="aws", aws__region="US-EAST-1"), "aws.region"),
    (dict(target="aws", aws__snapshot_name="x" * 300), "aws.snapshot_name"),
]


@pytest.mark.parametrize("changes,words", NAME_CASES, ids=[w.split(" ")[0] + str(i) for i, (_c, w) in enumerate(NAME_CASES)])
def test_upload_names_and_regions(upload, changes, words):
    assert_clear_failure(upload(**changes), words)


def test_upload_missing_ca_file(upload, tmp_path):
    msg = assert_clear_failure(upload(azure__ca_path=str(tmp_path / "missing-ca.pem")), "azure.ca_path", "does not exist")
    assert "credential" not in msg


def test_upload_ca_is_a_folder(upload, tmp_path):
    assert_clear_failure(upload(azure__ca_path=str(tmp_path)), "azure.ca_path", "is not a file")


def test_upload_missing_key_file(upload, tmp_path):
    assert_clear_failure(upload(target="gcp", gcp__token=None, gcp__service_account_file=str(tmp_path / "key.json")),
                         "gcp.service_account_file", "does not exist")


def test_journal_dir_is_a_file(upload, tmp_path):
    (tmp_path / "afile").write_text("x")
    assert_clear_failure(upload(journal_dir=str(tmp_path / "afile")), "journal_dir", "is a file, not a folder")


def test_journal_dir_under_a_file(upload, tmp_path):
    (tmp_path / "afile").write_text("x")
    assert_clear_failure(upload(journal_dir=str(tmp_path / "afile" / "j")), "journal_dir", "is a file, not a folder")


def test_progress_file_under_a_file(upload, tmp_path):
    (tmp_path / "afile").write_text("x")
    assert_clear_failure(upload(progress_file=str(tmp_path / "afile" / "sub" / "progress.json")), "progress_file", "is a file, not a folder")


def test_progress_file_is_a_folder(upload, tmp_path):
    assert_clear_failure(upload(progress_file=str(tmp_path)), "progress_file", "is a folder")


# -- the source location -----------------------------------------------------------------------

SMB_CASES = [
    ("smb://[::1/images/x.vhdx", "is not a valid smb:// location"),
    ("smb://[fd00::1/images/x.vhdx", "is not a valid smb:// location"),
    ("smb://fs01:0/images/x.vhdx", "port from 1 to 65535"),
    ("smb://fs01:70000/images/x.vhdx", "port from 1 to 65535"),
    ("smb://fs01:smb/images/x.vhdx", "invalid port"),
    ("smb://svc:NotShownUrl1@fs01/images/x.vhdx", "must not hold credentials"),
    ("smb://fs01/only-a-share", "is not a file on a share"),
    ("smb:///images/x.vhdx", "is not a file on a share"),
    ("smb://fs 01/images/x.vhdx", "is not a valid host name"),
    ("smb://fs$01/images/x.vhdx", "is not a valid host name"),
    ("\\\\fs01", "is not a file on a share"),
]


@pytest.mark.parametrize("location,words", SMB_CASES, ids=[location for location, _words in SMB_CASES])
def test_smb_location(upload, location, words):
    msg = assert_clear_failure(upload(source={"location": location, "username": "svc", "password": "NotShownSmb1"}), words)
    assert "NotShown" not in msg


@pytest.fixture()
def special_files(tmp_path):
    fifo = tmp_path / "pipe.vhdx"
    os.mkfifo(fifo)
    sock_path = tmp_path / "sock.vhdx"
    sock = socket.socket(socket.AF_UNIX)
    sock.bind(str(sock_path))
    empty = tmp_path / "empty.vhdx"
    empty.write_bytes(b"")
    yield {"fifo": str(fifo), "socket": str(sock_path), "chardev": "/dev/zero", "dir": str(tmp_path), "missing": str(tmp_path / "nope.vhdx"),
           "empty": str(empty), "file-url-missing": "file://%s" % (tmp_path / "nope.vhdx"), "proc": "/proc/self/status"}
    sock.close()


LOCAL_CASES = [("fifo", "is a named pipe"), ("socket", "is a socket"), ("chardev", "is a character device"), ("dir", "is a directory"),
               ("missing", "does not exist"), ("empty", "too small to be a VHD"), ("file-url-missing", "does not exist"),
               ("proc", "too small to be a VHD")]


@pytest.mark.parametrize("kind,words", LOCAL_CASES, ids=[kind for kind, _words in LOCAL_CASES])
@pytest.mark.parametrize("module", ["ips_upload", "ips_disk_info"])
def test_local_source_not_an_image(run_module, upload, special_files, kind, words, module):
    """A named pipe used to block the task forever: every non-regular file is refused at once."""
    location = special_files[kind]
    if module == "ips_upload":
        answer = upload(source={"location": location})
    else:
        answer = run_module("ips_disk_info", {"source": {"location": location}})
    assert_clear_failure(answer, words)


@pytest.mark.parametrize("changes,words", [({"port": 0}, "source.port"), ({"connections": 200}, "source.connections"),
                                           ({"port": 65536}, "source.port"), ({"connections": -1}, "source.connections")])
def test_disk_info_ranges(run_module, image, changes, words):
    assert_clear_failure(run_module("ips_disk_info", {"source": dict({"location": image}, **changes)}), words)


# -- the Citrix Cloud modules ------------------------------------------------------------------

AUTH_CASES = [
    (dict(request_timeout=0), "request_timeout must be from 1 to 3600"),
    (dict(request_timeout=-1), "request_timeout must be from 1 to 3600"),
    (dict(max_retries=-1), "max_retries must be from 0 to 20"),
    (dict(max_retries=500), "max_retries must be from 0 to 20"),
    (dict(retry_max_delay=-3), "retry_max_delay must be from 0 to 3600"),
    (dict(region="mars"), "region"),
    (dict(validate_certs="sometimes"), "validate_certs"),
    (dict(limit=0), "limit must be from 1 to 10000"),
    (dict(limit="all"), "limit"),
]


@pytest.mark.parametrize("changes,words", AUTH_CASES, ids=[w.split(" ")[0] + str(i) for i, (_c, w) in enumerate(AUTH_CASES)])
def test_job_info_options(run_module, changes, words):
    assert_clear_failure(run_module("ips_job_info", dict(AUTH, **changes)), words)


def test_missing_citrix_ca(run_module, tmp_path):
    msg = assert_clear_failure(run_module("ips_job_info", dict(AUTH, ca_path=str(tmp_path / "ca.pem"))), "ca_path", "PEM")
    assert "client credentials" not in msg


EXPORT = {"platform": "vsphere", "vsphere": {"host": "vcenter.corp.example", "credential_id": "vc"}, "source_disk": "[ds1] vm/vm.vmdk",
          "smb": {"location": "smb://fs01/exports/", "credential_id": "smb"}, "output_name": "win11"}
EXPORT_CASES = [
    ("vsphere", "port", 0, "vsphere.port must be from 1 to 65535"),
    ("vsphere", "port", 70000, "vsphere.port must be from 1 to 65535"),
    ("smb", "port", 0, "smb.port must be from 1 to 65535"),
    ("smb", "port", 99999, "smb.port must be from 1 to 65535"),
    (None, "wait_timeout", 0, "wait_timeout must be from 1"),
    (None, "wait_sleep", 0, "wait_sleep must be from 1 to 3600"),
    (None, "job_timeout", -1, "job_timeout must be from 1"),
    (None, "output_format", "qcow2", "output_format"),
    (None, "platform", "hyperv", "platform"),
]


@pytest.mark.parametrize("outer,key,value,words", EXPORT_CASES, ids=[w.split(" ")[0] for *_x, w in EXPORT_CASES])
def test_export_options(run_module, outer, key, value, words):
    args = dict(AUTH, **EXPORT)
    if outer:
        args[outer] = dict(args[outer], **{key: value})
    else:
        args[key] = value
    assert_clear_failure(run_module("ips_export", args), words)


def test_validate_certs_false_warns(run_module):
    """TLS verification turned off: the task result carries a warning (here the task then fails on a range)."""
    answer = run_module("ips_job_info", dict(AUTH, validate_certs=False, request_timeout=0))
    assert "validate_certs: false turns TLS certificate verification off" in answer.warnings_text, answer


def test_ssl_no_check_hostname_warns(run_module):
    args = dict(AUTH, **EXPORT)
    args["vsphere"] = dict(args["vsphere"], ssl_no_check_hostname=True)
    args["wait_sleep"] = 0
    answer = run_module("ips_export", args)
    assert "vsphere.ssl_no_check_hostname: true turns TLS" in answer.warnings_text, answer
