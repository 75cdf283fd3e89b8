"""The upload benchmark (bench/run.sh). Every figure comes from this one run; ratios only.

1. SMB read limit: the allocated extents read with smbprotocol (our SmbFileSource), best of 1/2/4 lanes.
2. Target ingest limit: Put Page of the same byte count from memory, 4 MiB pages, best of 4/8 threads -
   through the lab's Azure plane (the managed-disk SAS front our upload also goes through) and
   directly to Azurite (reported too).
3. Ours, end to end from the share: Azure plane, EBS front (moto), GCS emulator + GCE plane.
4. Naive baseline: qemu-img convert to a fixed VHD, then a sequential Put Page of the whole file.
4b. AzCopy (npm @azure-tools/azcopy-linux) uploading that fixed VHD as a page blob to Azurite (reference tool).
5. Peak RSS and CPU-seconds per GiB sent of our upload: the ips_upload module run as Ansible runs it, in
   its own process; wall time, ru_maxrss and CPU come from wait4 on that process.
"""

import argparse
import concurrent.futures
import json
import os
import random
import subprocess
import sys
import time
import uuid
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
MIB = 1024 * 1024
GIB = 1024 * MIB
SIZES = {"quick": 2 * GIB, "large": 16 * GIB}


def read_env(path):
    return dict(line.split("=", 1) for line in Path(path).read_text().splitlines() if "=" in line and not line.startswith("#"))


def say(text):
    print(text, flush=True)


def build_image(folder, virtual, seed=1):
    """A dynamic VHDX about 30 % allocated in scattered 2-32 MiB runs, 10 % of the allocated blocks all zero."""
    rnd = random.Random(seed)
    raw = folder / "bench.raw"
    img = folder / "bench.vhdx"
    if img.exists():
        return img
    block = 32 * MIB
    blocks = virtual // block
    chosen = sorted(rnd.sample(range(blocks), int(blocks * 0.30)))
    zero_blocks = set(rnd.sample(chosen, max(1, len(chosen) // 10)))
    text = (b"The quick brown fox jumps over the lazy dog; compressible text. " * 20000)
    with open(raw, "wb") as f:
        f.truncate(virtual)
        for b in chosen:
            f.seek(b * block)
            if b in zero_blocks:
                f.write(b"\x01" * block)  # marked now, zeroed inside the VHDX below (allocated but all zero)
            elif b % 4 == 0:
                f.write((text * (block // len(text) + 1))[:block])
            else:
                f.write(os.urandom(block))
    subprocess.run(["qemu-img", "convert", "-f", "raw", "-O", "vhdx", "-o", "subformat=dynamic,block_size=32M", str(raw), str(img)], check=True)
    os.unlink(raw)
    # zero the marked blocks inside the VHDX file: they stay allocated, their data becomes zeros
    sys.path.insert(0, str(REPO))
    from ansible_collections.citrix_community.ips.plugins.module_utils._disk import open_image
    from ansible_collections.citrix_community.ips.plugins.module_utils._sources import LocalFileSource
    with LocalFileSource(str(img)) as src:
        extents = list(open_image(src, skip_file_holes=False).extents())
    with open(img, "r+b") as f:
        zero = bytes(block)
        for e in extents:
            for b in zero_blocks:
                start, end = max(e.virtual_offset, b * block), min(e.virtual_offset + e.length, (b + 1) * block)
                if start < end:
                    f.seek(e.file_offset + start - e.virtual_offset)
                    f.write(zero[:end - start])
    return img


def smb_source(env, rel):
    return {"location": "smb://%s:%s/%s/%s" % (env["IPS_LAB_SMB_HOST"], env["IPS_LAB_SMB_PORT"], env["IPS_LAB_SMB_EXPORT_SHARE"], rel),
            "username": env["IPS_LAB_SMB_USER"], "password": env["IPS_LAB_SMB_PASSWORD"], "domain": env.get("IPS_LAB_SMB_DOMAIN") or None}


def drop_cache(path):
    try:
        fd = os.open(str(path), os.O_RDONLY)
        os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
        os.close(fd)
    except OSError:
        pass


def smb_read_limit(env, rel, path):
    from ansible_collections.citrix_community.ips.plugins.module_utils._disk import open_image
    from ansible_collections.citrix_community.ips.plugins.module_utils._sources import SmbFileSource
    best = None
    for lanes in (1, 2, 4):
        drop_cache(path)
        s = smb_source(env, rel)
        src = SmbFileSource(s["location"], s["username"], s["password"], s["domain"], max_connections=lanes)
        image = open_image(src)
        reads = []
        for e in image.extents():
            for off in range(0, e.length, 8 * MIB):
                reads.append((e.file_offset + off, min(8 * MIB, e.length - off)))
        total = sum(n for _o, n in reads)

        bufs = {}

        def read(r):
            import threading
            buf = bufs.setdefault(threading.get_ident(), bytearray(8 * MIB))
            return src.readinto_at(r[0], memoryview(buf)[:r[1]])

        start = time.monotonic()
        with concurrent.futures.ThreadPoolExecutor(lanes) as pool:
            got = sum(pool.map(read, reads))
        wall = time.monotonic() - start
        src.close()
        assert got == total
        rate = total / wall
        say("  smb read, %d lane(s): %.1f MiB/s" % (lanes, rate / MIB))
        if best is None or rate > best[0]:
            best = (rate, lanes)
    return best, total


def azure_clients(env):
    from azure.identity import ClientSecretCredential
    from azure.mgmt.compute import ComputeManagementClient
    ca = env["IPS_LAB_AZURE_CA_PATH"]
    cred = ClientSecretCredential(env["IPS_LAB_AZURE_TENANT_ID"], env["IPS_LAB_AZURE_CLIENT_ID"], env["IPS_LAB_AZURE_CLIENT_SECRET"],
                                  authority=env["IPS_LAB_AZURE_AUTHORITY"], disable_instance_discovery=True, connection_verify=ca)
    return ComputeManagementClient(cred, env["IPS_LAB_AZURE_SUBSCRIPTION_ID"], base_url=env["IPS_LAB_AZURE_URL"],
                                   credential_scopes=["https://management.azure.com/.default"], connection_verify=ca), ca


def plane_disk(env, name, upload_size):
    """A managed disk with a write SAS from the lab's Azure plane: (BlobClient factory, cleanup)."""
    from azure.mgmt.compute.models import CreationData, Disk, GrantAccessData
    from azure.storage.blob import BlobClient
    compute, ca = azure_clients(env)
    rg = env["IPS_LAB_AZURE_RESOURCE_GROUP"]
    compute.disks.begin_create_or_update(rg, name, Disk(location=env["IPS_LAB_AZURE_LOCATION"], creation_data=CreationData(
        create_option="Upload", upload_size_bytes=upload_size))).result()
    sas = compute.disks.begin_grant_access(rg, name, GrantAccessData(access="Write", duration_in_seconds=86400)).result().access_sas

    def cleanup():
        from ansible_collections.citrix_community.ips.plugins.module_utils._disk.footer import fixed_vhd_footer
        BlobClient.from_blob_url(sas, connection_verify=ca).upload_page(fixed_vhd_footer(upload_size - 512), offset=upload_size - 512, length=512)
        compute.disks.begin_revoke_access(rg, name).result()
        compute.disks.begin_delete(rg, name).result()

    return (lambda: BlobClient.from_blob_url(sas, connection_verify=ca)), cleanup


def _constant(value):
    def get():
        return value
    return get


def ingest_limit(env, nbytes, virtual):
    from ansible_collections.citrix_community.ips.plugins.module_utils._disk.footer import azure_upload_size
    payload = os.urandom(4 * MIB)
    pages = nbytes // (4 * MIB)
    results = {}
    for via in ("plane", "azurite"):
        best = None
        for threads in (4, 8):
            if via == "plane":
                make, cleanup = plane_disk(env, "bench-ingest-%s" % uuid.uuid4().hex[:6], azure_upload_size(virtual))
            else:
                from azure.storage.blob import BlobServiceClient
                key = {"account_name": env["IPS_LAB_AZURITE_ACCOUNT"], "account_key": env["IPS_LAB_AZURITE_KEY"]}
                svc = BlobServiceClient(env["IPS_LAB_AZURITE_BLOB_URL"], credential=key)
                cont = svc.get_container_client("bench")
                try:
                    cont.create_container()
                except Exception:
                    pass
                blob = cont.get_blob_client("ingest-%s" % uuid.uuid4().hex[:6])
                blob.create_page_blob(virtual)
                make, cleanup = _constant(blob), blob.delete_blob
            import threading
            local = threading.local()

            def put(i):
                if not hasattr(local, "c"):
                    local.c = make()
                local.c.upload_page(payload, offset=i * 4 * MIB, length=4 * MIB)

            start = time.monotonic()
            with concurrent.futures.ThreadPoolExecutor(threads) as pool:
                list(pool.map(put, range(pages)))
            rate = pages * 4 * MIB / (time.monotonic() - start)
            cleanup()
            say("  put page from memory via %s, %d threads: %.1f MiB/s" % (via, threads, rate / MIB))
            if best is None or rate > best[0]:
                best = (rate, threads)
        results[via] = best
    return results


def ours(env, target, source, name, work, concurrency=None):
    if target == "azure":
        opts = {"subscription_id": env["IPS_LAB_AZURE_SUBSCRIPTION_ID"], "resource_group": env["IPS_LAB_AZURE_RESOURCE_GROUP"],
                "location": env["IPS_LAB_AZURE_LOCATION"], "tenant_id": env["IPS_LAB_AZURE_TENANT_ID"], "client_id": env["IPS_LAB_AZURE_CLIENT_ID"],
                "client_secret": env["IPS_LAB_AZURE_CLIENT_SECRET"], "authority": env["IPS_LAB_AZURE_AUTHORITY"],
                "arm_endpoint": env["IPS_LAB_AZURE_URL"], "ca_path": env["IPS_LAB_AZURE_CA_PATH"], "disk_name": name}
    elif target == "aws":
        opts = {"region": "us-east-1", "access_key_id": "AKIABENCH", "secret_access_key": "bench", "ebs_endpoint_url": env["IPS_LAB_EBS_URL"],
                "ec2_endpoint_url": env["IPS_LAB_MOTO_URL"], "snapshot_name": name}
    else:
        from google.auth.credentials import AnonymousCredentials
        from google.cloud import storage
        client = storage.Client(project="p", credentials=AnonymousCredentials(), client_options={"api_endpoint": env["IPS_LAB_GCS_URL"]})
        try:
            client.create_bucket("ips-bench")
        except Exception:
            pass
        opts = {"project": env["IPS_LAB_GCP_PROJECT"], "token": env["IPS_LAB_GCP_TOKEN"], "bucket": "ips-bench", "image_name": name,
                "storage_endpoint": env["IPS_LAB_GCS_URL"], "compute_endpoint": env["IPS_LAB_GCE_URL"], "compression_level": 1}
    return run_module(target, {"source": source, "target": target, target: opts, "journal_dir": str(work / "journal"),
                               "concurrency": concurrency, "overwrite": "always"}, work)


def run_module(target, args, work):
    """Run the ips_upload module itself (python -m ..., as Ansible runs it: its own process) and take its
    wall time, peak RSS (ru_maxrss) and CPU seconds from wait4, so every figure is the module process's."""
    args_file = work / ("args-%s.json" % target)
    args_file.write_text(json.dumps({"ANSIBLE_MODULE_ARGS": dict((k, v) for k, v in args.items() if v is not None)}))
    cmd = [sys.executable, "-m", "ansible_collections.citrix_community.ips.plugins.modules.ips_upload", str(args_file)]
    out_file, err_file = work / ("out-%s.json" % target), work / ("err-%s.txt" % target)
    with open(out_file, "wb") as out, open(err_file, "wb") as err:
        start = time.monotonic()
        proc = subprocess.Popen(cmd, stdout=out, stderr=err)
        _pid, status, ru = os.wait4(proc.pid, 0)
        wall = time.monotonic() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
    args_file.unlink()
    text = out_file.read_text()
    try:
        result = json.loads(text)
    except ValueError:
        result = {"failed": True, "msg": text[-2000:] + err_file.read_text()[-2000:]}
    if proc.returncode or result.get("failed"):
        raise SystemExit("bench: our %s upload failed: %s" % (target, result.get("msg")))
    result.update(wall=wall, peak_rss_mib=ru.ru_maxrss / 1024.0, cpu_s=ru.ru_utime + ru.ru_stime)
    return result


AZCOPY = REPO / "bench" / "node_modules" / "@azure-tools" / "azcopy-linux" / "dist" / "bin" / "azcopy_linux_amd64"


def to_fixed(image, work):
    """qemu-img convert to a fixed VHD (what AzCopy and the naive baseline need): (path, seconds)."""
    fixed = work / "fixed.vhd"
    start = time.monotonic()
    subprocess.run(["qemu-img", "convert", "-f", "vhdx", "-O", "vpc", "-o", "subformat=fixed,force_size=on", str(image), str(fixed)], check=True)
    return fixed, time.monotonic() - start


def azcopy(env, fixed, work):
    """AzCopy (npm @azure-tools/azcopy-linux) uploading the fixed VHD as a page blob straight to Azurite
    (it cannot take a dynamic VHD/VHDX, and needs --from-to LocalBlob for an emulator address).
    Returns (wall, peak RSS MiB, CPU s, bytes of the file it reads, bytes written per Get Page Ranges)."""
    from azure.storage.blob import BlobServiceClient, ContainerSasPermissions, generate_container_sas
    import datetime
    if not os.access(str(AZCOPY), os.X_OK):
        return None
    account, key = env["IPS_LAB_AZURITE_ACCOUNT"], env["IPS_LAB_AZURITE_KEY"]
    svc = BlobServiceClient(env["IPS_LAB_AZURITE_BLOB_URL"], credential={"account_name": account, "account_key": key})
    cont = svc.get_container_client("bench")
    try:
        cont.create_container()
    except Exception:
        pass
    sas = generate_container_sas(account, "bench", account_key=key, permission=ContainerSasPermissions(read=True, write=True, create=True,
                                 list=True, delete=True), expiry=datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(hours=6))
    name = "azcopy-%s.vhd" % uuid.uuid4().hex[:6]
    logs = work / "azcopy"
    logs.mkdir(exist_ok=True)
    envp = dict(os.environ, AZCOPY_LOG_LOCATION=str(logs), AZCOPY_JOB_PLAN_LOCATION=str(logs), AZCOPY_DISABLE_SYSLOG="true")
    cmd = [str(AZCOPY), "copy", str(fixed), "%s/bench/%s?%s" % (env["IPS_LAB_AZURITE_BLOB_URL"], name, sas),
           "--from-to", "LocalBlob", "--blob-type", "PageBlob", "--output-level", "quiet"]
    drop_cache(fixed)
    with open(logs / "stdout.txt", "wb") as out:
        start = time.monotonic()
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, env=envp)
        _pid, status, ru = os.wait4(proc.pid, 0)
        wall = time.monotonic() - start
    if os.waitstatus_to_exitcode(status):
        raise SystemExit("bench: azcopy failed: %s" % (logs / "stdout.txt").read_text()[-2000:])
    blob = cont.get_blob_client(name)
    written = sum(r["end"] - r["start"] + 1 for r in blob.get_page_ranges()[0])
    blob.delete_blob()
    return wall, ru.ru_maxrss / 1024.0, ru.ru_utime + ru.ru_stime, fixed.stat().st_size, written


def naive(env, fixed, convert, work):
    """The fixed VHD (made by to_fixed), every 4 MiB of it Put Page'd in order by one thread."""
    start = time.monotonic()
    size = fixed.stat().st_size
    make, cleanup = plane_disk(env, "bench-naive-%s" % uuid.uuid4().hex[:6], size)
    blob = make()
    buf = bytearray(4 * MIB)
    with open(fixed, "rb", buffering=0) as f:
        pos = 0
        while pos < size:
            n = f.readinto(buf)
            n -= n % 512
            if n <= 0:
                break
            blob.upload_page(bytes(buf[:n]), offset=pos, length=n)
            pos += n
    upload = time.monotonic() - start
    cleanup()
    return convert, upload


def nonzero_bytes(path):
    sys.path.insert(0, str(REPO))
    from ansible_collections.citrix_community.ips.plugins.module_utils._sources import LocalFileSource
    from ansible_collections.citrix_community.ips.plugins.module_utils._disk import open_image
    from ansible_collections.citrix_community.ips.plugins.module_utils._upload.info import count_nonzero
    with LocalFileSource(str(path)) as src:
        img = open_image(src, skip_file_holes=False)
        return img.virtual_size, img.allocated_bytes, count_nonzero(img)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--env", required=True)
    ap.add_argument("--size", default="quick", choices=sorted(SIZES))
    ap.add_argument("--targets")
    args = ap.parse_args()
    env = read_env(args.env)
    targets = (args.targets or ("azure,aws,gcp" if args.size == "quick" else "azure,aws")).split(",")
    virtual = SIZES[args.size]
    share = Path(env["IPS_LAB_SMB_EXPORT_DIR"]) / ("bench-" + args.size)
    share.mkdir(parents=True, exist_ok=True)
    work = Path(env["IPS_LAB_RUN_DIR"]) / "bench-work"
    work.mkdir(exist_ok=True)
    say("bench: building a %d GiB dynamic VHDX (30 %% allocated, 10 %% of it zero) on the share" % (virtual // GIB))
    image = build_image(share, virtual)
    rel = "%s/%s" % (share.name, image.name)
    v, allocated, nonzero = nonzero_bytes(image)
    say("  virtual %.0f MiB, allocated %.0f MiB, non-zero %.0f MiB" % (v / MIB, allocated / MIB, nonzero / MIB))

    say("bench: 1. SMB read limit")
    (smb_rate, smb_lanes), read_total = smb_read_limit(env, rel, image)
    say("bench: 2. target ingest limit (Put Page of %.0f MiB from memory)" % (nonzero / MIB))
    ingest = ingest_limit(env, nonzero, virtual)
    ingest_rate = ingest["plane"][0]

    say("bench: 3. ours, end to end from the SMB share")
    runs = {}
    for target in targets:
        drop_cache(image)
        r = ours(env, target, smb_source(env, rel), "bench-%s-%s" % (target, uuid.uuid4().hex[:6]), work)
        runs[target] = r
        say("  %-5s %.1f s, read %.0f MiB, sent %.0f MiB, %.1f MiB/s read, peak RSS %.0f MiB, CPU %.1f s"
            % (target, r["wall"], r["bytes_read"] / MIB, r["bytes_sent"] / MIB, r["bytes_read"] / MIB / r["wall"], r["peak_rss_mib"], r["cpu_s"]))

    say("bench: 4. naive baseline (qemu-img convert to fixed VHD, sequential Put Page of the whole file)")
    drop_cache(image)
    fixed, convert = to_fixed(image, work)
    drop_cache(fixed)
    convert, upload = naive(env, fixed, convert, work)
    t_naive = convert + upload
    say("  convert %.1f s + upload %.1f s = %.1f s" % (convert, upload, t_naive))
    say("bench: 4b. AzCopy (the same fixed VHD, page blob straight to Azurite)")
    ac = azcopy(env, fixed, work)
    if ac is None:
        say("  AzCopy is not installed (bench/run.sh installs it with npm); skipped")
    else:
        say("  azcopy %.1f s (+ convert %.1f s), read %.0f MiB (the whole fixed file), sent %.0f MiB, peak RSS %.0f MiB, CPU %.1f s"
            % (ac[0], convert, ac[3] / MIB, ac[4] / MIB, ac[1], ac[2]))
    os.unlink(fixed)

    az = runs.get("azure")
    t_smb = read_total / smb_rate
    t_ingest = nonzero / ingest_rate
    read_ratio = az["bytes_read"] / float(allocated)
    sent_ratio = az["bytes_sent"] / float(nonzero)
    speedup = t_naive / az["wall"]
    efficiency = max(t_smb, t_ingest) / az["wall"]
    sent_gib = az["bytes_sent"] / float(GIB)
    cpu_per_gib = az["cpu_s"] / sent_gib if sent_gib else 0.0
    peak = max(r["peak_rss_mib"] for r in runs.values())
    say("bench: 5. figures (azure): SMB limit %.1f MiB/s (%d lanes), ingest limit via plane %.1f MiB/s (Azurite direct %.1f MiB/s), "
        "ours %.1f MiB/s of allocated data; T_smb %.1f s, T_ingest %.1f s, T_ours %.1f s, T_naive %.1f s"
        % (smb_rate / MIB, smb_lanes, ingest_rate / MIB, ingest["azurite"][0] / MIB, allocated / MIB / az["wall"], t_smb, t_ingest,
           az["wall"], t_naive))
    if ac is not None:
        say("  azcopy: read_ratio=%.3f sent_ratio=%.3f cpu_s_per_gib=%.2f peak_rss_mib=%.0f time=%.1f s (%.1f s with the conversion)"
            % (ac[3] / float(allocated), ac[4] / float(nonzero), ac[2] / max(ac[4] / float(GIB), 1e-9), ac[1], ac[0], ac[0] + convert))
    for target, r in runs.items():
        say("  %s: read_ratio=%.3f sent_ratio=%.3f cpu_s_per_gib=%.2f peak_rss_mib=%.0f" % (
            target, r["bytes_read"] / float(allocated), r["bytes_sent"] / float(nonzero), r["cpu_s"] / max(r["bytes_sent"] / float(GIB), 1e-9),
            r["peak_rss_mib"]))
    say("bench: read_ratio=%.3f sent_ratio=%.3f speedup_vs_naive=%.2f efficiency=%.2f peak_rss_mib=%.0f cpu_s_per_gib=%.2f"
        % (read_ratio, sent_ratio, speedup, efficiency, peak, cpu_per_gib))


if __name__ == "__main__":
    main()
