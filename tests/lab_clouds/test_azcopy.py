"""AzCopy 10.32 (bench/node_modules, installed by `make setup`), a client the collection shares no code with, against
the Azure plane at Azure's own host names through the real-host proxy: the disk SAS it gets is on an md- host, so
AzCopy treats it as a managed disk as it does in Azure (AzCopy's ste/sender-pageBlob.go: no Put Blob, the source must
be exactly the disk's size, no whole-blob MD5), and a disk-to-disk copy goes by Put Page From URL."""

import os
import subprocess
import uuid
from pathlib import Path

import pytest

# The module's in-process proxy, reused
from test_real_hosts_proxy import proxied  # noqa: F401  # pylint: disable=unused-import

REPO = Path(__file__).resolve().parents[2]
AZCOPY = REPO / "bench" / "node_modules" / "@azure-tools" / "azcopy-linux" / "dist" / "bin" / "azcopy_linux_amd64"
MIB = 1024 * 1024
SIZE = 20 * MIB + 512

pytestmark = [pytest.mark.timeout(240),
              pytest.mark.skipif(not AZCOPY.exists(), reason="AzCopy is installed by `make setup` (bench/node_modules)")]


@pytest.fixture(scope="module")
def azure(cloud_lab, proxied, tmp_path_factory):  # noqa: F811 - the fixture
    from azure.core.pipeline.transport import RequestsTransport
    from azure.identity import ClientSecretCredential
    from azure.mgmt.compute import ComputeManagementClient

    env = cloud_lab.env
    work = tmp_path_factory.mktemp("azcopy")
    ca = proxied.app.ca_path
    proxies = {"https": proxied.url}
    # the SDK reaches management.azure.com and login.microsoftonline.com through the proxy; no lab URL anywhere
    credential = ClientSecretCredential(env["IPS_LAB_AZURE_TENANT_ID"], env["IPS_LAB_AZURE_CLIENT_ID"], env["IPS_LAB_AZURE_CLIENT_SECRET"],
                                        connection_verify=ca, proxies=proxies)
    compute = ComputeManagementClient(credential, env["IPS_LAB_AZURE_SUBSCRIPTION_ID"], connection_verify=ca, proxies=proxies,
                                      transport=RequestsTransport(connection_verify=ca))
    run_env = dict((k, v) for k, v in os.environ.items() if "PROXY" not in k.upper())
    run_env.update(HTTPS_PROXY=proxied.url, SSL_CERT_FILE=ca, AZCOPY_LOG_LOCATION=str(work / "logs"),
                   AZCOPY_JOB_PLAN_LOCATION=str(work / "plans"), AZCOPY_DISABLE_SYSLOG="true")

    class Azure(object):
        pass

    az = Azure()
    az.env, az.compute, az.rg, az.work, az.ca, az.proxies, az.run_env = env, compute, env["IPS_LAB_AZURE_RESOURCE_GROUP"], work, ca, proxies, run_env
    return az


def disk(az, name, size=SIZE):
    from azure.mgmt.compute.models import CreationData, Disk

    az.compute.disks.begin_create_or_update(az.rg, name, Disk(location=az.env["IPS_LAB_AZURE_LOCATION"], creation_data=CreationData(
        create_option="Upload", upload_size_bytes=size))).result()


def sas(az, name, access="Write"):
    from azure.mgmt.compute.models import GrantAccessData

    return az.compute.disks.begin_grant_access(az.rg, name, GrantAccessData(access=access, duration_in_seconds=3600)).result().access_sas


def fixed_vhd(az, name, size=SIZE):
    """A fixed VHD of `size` bytes in all (qemu-img's footer) with a MiB of data at its start."""
    path = az.work / name
    subprocess.run(["qemu-img", "create", "-q", "-f", "vpc", "-o", "subformat=fixed,force_size=on", str(path), str(size - 512)], check=True)
    with open(path, "r+b") as out:
        out.write(os.urandom(MIB))
    assert path.stat().st_size == size
    return path


def azcopy(az, *args):
    """Run `azcopy copy ARGS`; .text is its output and its job log (where AzCopy writes why a transfer failed)."""
    logs = az.work / "logs"
    for old in logs.glob("*.log") if logs.is_dir() else ():
        old.unlink()
    done = subprocess.run([str(AZCOPY), "copy"] + [str(a) for a in args], env=az.run_env, capture_output=True, text=True, timeout=180,
                          check=False)
    done.text = done.stdout + done.stderr + "".join(p.read_text(errors="replace") for p in logs.glob("*.log"))
    return done


def read_back(az, name, length):
    from azure.storage.blob import BlobClient

    read = sas(az, name, access="Read")
    try:
        return BlobClient.from_blob_url(read, connection_verify=az.ca, proxies=az.proxies).download_blob(offset=0, length=length).readall()
    finally:
        az.compute.disks.begin_revoke_access(az.rg, name).result()


def test_azcopy_uploads_a_managed_disk_by_put_page(azure):
    name = "azc-%s" % uuid.uuid4().hex[:6]
    disk(azure, name)
    write = sas(azure, name)
    assert write.split("/")[2].startswith("md-impexp-")
    source = fixed_vhd(azure, name + ".vhd")
    done = azcopy(azure, source, write, "--blob-type", "PageBlob")
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    azure.compute.disks.begin_revoke_access(azure.rg, name).result()  # the footer qemu-img wrote passes Azure's check
    assert azure.compute.disks.get(azure.rg, name).disk_state == "Unattached"
    assert read_back(azure, name, SIZE) == source.read_bytes()


def test_azcopy_refuses_a_size_mismatch_and_put_md5(azure):
    name = "azc-%s" % uuid.uuid4().hex[:6]
    disk(azure, name)
    write = sas(azure, name)
    smaller = fixed_vhd(azure, name + "-small.vhd", size=SIZE - MIB)
    mismatch = azcopy(azure, smaller, write, "--blob-type", "PageBlob")
    assert mismatch.returncode != 0
    # AzCopy read the disk's size (Get Blob Properties on the md- host) and refused before sending a page
    assert "source file is not same size as the destination page blob" in mismatch.text, mismatch.text[-3000:]
    assert "destination size is %d bytes" % SIZE in mismatch.text
    same = fixed_vhd(azure, name + ".vhd")
    md5 = azcopy(azure, same, write, "--blob-type", "PageBlob", "--put-md5")
    assert md5.returncode != 0
    assert "the Content-MD5 hash is not supported for managed disk uploads" in md5.text, md5.text[-3000:]


def test_azcopy_copies_disk_to_disk(azure):
    from ips_lab.common.admin import LabAdmin

    source_name, dest_name = "azc-src-%s" % uuid.uuid4().hex[:6], "azc-dst-%s" % uuid.uuid4().hex[:6]
    disk(azure, source_name)
    source = fixed_vhd(azure, source_name + ".vhd")
    assert azcopy(azure, source, sas(azure, source_name), "--blob-type", "PageBlob").returncode == 0
    azure.compute.disks.begin_revoke_access(azure.rg, source_name).result()
    disk(azure, dest_name)
    dest_sas = sas(azure, dest_name)
    admin = LabAdmin.from_env(azure.env, "azure")
    admin.clear_requests()
    done = azcopy(azure, sas(azure, source_name, access="Read"), dest_sas, "--blob-type", "PageBlob")
    assert done.returncode == 0, done.text[-3000:]
    # the pages went by Put Page From URL: PUTs on the destination with no body (the plane reads the source itself)
    container = dest_sas.split("/")[3]
    puts = [r for r in admin.requests() if r["method"] == "PUT" and r["path"].startswith("/md-impexp/%s/" % container)]
    assert puts and all(r["length"] == 0 and r["status"] == 201 for r in puts), puts
    azure.compute.disks.begin_revoke_access(azure.rg, source_name).result()
    azure.compute.disks.begin_revoke_access(azure.rg, dest_name).result()
    assert read_back(azure, dest_name, SIZE) == source.read_bytes()
