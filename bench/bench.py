"""The upload benchmark (bench/run.sh). Every figure comes from this one run; ratios only.

1. Naive baseline: qemu-img convert to a fixed VHD, then a sequential Put Page of the whole file.
1b. AzCopy (npm @azure-tools/azcopy-linux) uploading that fixed VHD as a page blob to Azurite (reference tool).
2. Azure rounds (3 for quick, 2 for large), back to back, the order alternating each round:
   the SMB read limit (the allocated extents read with our SmbFileSource; round 1 picks the best of
   1/2/4 lanes), the target ingest limit (Put Page from memory through the lab's Azure plane, 4 MiB
   pages, each with its Content-MD5 as ours sends them; round 1 picks the best of 4/8 threads; at most 1 GiB on the
   large image - a rate) and ours
   (the ips_upload module, end to end from the share). Each step also records the CPU-seconds of the
   client and of the stand-ins it drives (Samba, the Azure plane, Azurite). The figures are medians.
   Ours reads over as many SMB connections (source.connections) as the read limit's best lane count
   (--connections N / BENCH_CONNECTIONS=N to set it).
3. Ours once for the other targets: EBS front (moto), GCS emulator + GCE plane, with the same SMB connections.
3b. With all three targets: one fan-out upload (target: [azure, aws, gcp]) of the same image: fanout_ratio = its
   wall time / the slowest single-target wall time of this run (Azure: the median round), fanout_read_ratio =
   its bytes read / allocated.
4. Peak RSS and CPU-seconds per GiB sent of our upload: the ips_upload module run as Ansible runs it, in
   its own process; wall time, ru_maxrss and CPU come from wait4 on that process.

Placement (reference section 6.6, --pin 1, the default): the cloud stand-ins (Azure plane, Azurite, EBS
front, moto, GCS emulator, GCE plane) run on the last core; Samba, this process and the module it starts
on the others - for every step alike, limits and ours. Without it, on two cores the stand-ins take the
uploader's CPU and the limits, each measured alone, are not comparable with ours, which drives both at
once. --pin 0 runs everything everywhere.

Everything the bench creates is deleted after its step (managed disks, blobs, GCS objects, GCE images,
EBS snapshots - moto is reset -, the fixed VHD, the work directory, the image unless BENCH_KEEP_IMAGE=1),
and before each step that writes into the emulators the free disk space is checked: a step that would
leave less than 10 GiB free waits for Azurite's extent GC (it runs every 10 minutes), then is skipped.
"""

import argparse
import concurrent.futures
import hashlib
import json
import os
import random
import resource
import shutil
import statistics
import subprocess
import sys
import time
import urllib.request
import uuid
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
MIB = 1024 * 1024
GIB = 1024 * MIB
SIZES = {"quick": 2 * GIB, "large": 16 * GIB}
ROUNDS = {"quick": 3, "large": 2}
INGEST_CAP = {"quick": None, "large": 1 * GIB}
# the naive baseline's sequential Put Page runs at a constant rate: on the large image only its first
# 2 GiB are sent and the upload time is scaled to the whole file (the emulator would otherwise keep 16 GiB)
NAIVE_SAMPLE = {"quick": None, "large": 2 * GIB}
MIN_FREE = 10 * GIB


def free_bytes(path):
    return shutil.disk_usage(str(path)).free


def room_for(path, need, what, wait=660):
    """True when writing `need` bytes leaves MIN_FREE free; otherwise wait (bounded) for the emulators'
    garbage collection to free space, then False (the step is skipped and the bench says so)."""
    deadline = time.monotonic() + wait
    while True:
        free = free_bytes(path)
        if free - need >= MIN_FREE:
            return True
        if time.monotonic() >= deadline:
            say("  %s SKIPPED: it writes ~%.1f GiB and %.1f GiB are free (the bench keeps %d GiB free)"
                % (what, need / GIB, free / GIB, MIN_FREE // GIB))
            return False
        say("  waiting for space before %s (%.1f GiB free, %.1f GiB needed + %d GiB kept free)" % (what, free / GIB, need / GIB, MIN_FREE // GIB))
        time.sleep(20)


class CpuMeter(object):
    """CPU-seconds (user+sys) of this process and of the lab's stand-ins (each process tree: Samba forks
    a child per connection; a reaped child's time shows up in its parent's cutime/cstime)."""

    def __init__(self, run_dir, parts):
        self.pids = {}
        for part in parts:
            try:
                self.pids[part] = json.loads((Path(run_dir) / "pids" / ("%s.json" % part)).read_text())["pid"]
            except (OSError, ValueError, KeyError):
                pass
        self.tick = float(os.sysconf("SC_CLK_TCK"))

    def _children(self):
        kids = {}
        for d in os.listdir("/proc"):
            if d.isdigit():
                try:
                    with open("/proc/%s/stat" % d) as f:
                        ppid = int(f.read().rsplit(")", 1)[1].split()[1])
                    kids.setdefault(ppid, []).append(int(d))
                except (OSError, ValueError, IndexError):
                    pass
        return kids

    def _tree(self, pid, kids, root=True):
        try:
            with open("/proc/%d/stat" % pid) as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            return 0.0
        total = (int(fields[11]) + int(fields[12]) + ((int(fields[13]) + int(fields[14])) if root else 0)) / self.tick
        for kid in kids.get(pid, ()):
            total += self._tree(kid, kids, False) + self._reaped(kid)
        return total

    def _reaped(self, pid):
        try:
            with open("/proc/%d/stat" % pid) as f:
                fields = f.read().rsplit(")", 1)[1].split()
            return (int(fields[13]) + int(fields[14])) / self.tick
        except OSError:
            return 0.0

    def sample(self):
        kids = self._children()
        ru = resource.getrusage(resource.RUSAGE_SELF)
        out = {"self": ru.ru_utime + ru.ru_stime}
        for part, pid in self.pids.items():
            out[part] = self._tree(pid, kids)
        return out


class Pinning(object):
    """Section 6.6 of the reference: the stand-ins and the client on separate cores. The cloud's stand-ins
    (Azure plane + Azurite, EBS front + moto, GCS emulator + GCE plane) get the last core; Samba, this
    process, its threads and the module it starts (affinity is inherited) get the others. Every step -
    the limits and ours alike - runs with the same placement; restore() gives everything all cores back.
    On one core (or BENCH_PIN=0) nothing is pinned."""

    CLOUD = ("azure", "azurite", "ebs", "moto", "gcs", "gce")

    def __init__(self, meter, enabled):
        self.meter = meter
        cpus = sorted(os.sched_getaffinity(0))
        self.all = set(cpus)
        self.enabled = enabled and len(cpus) >= 2
        self.cloud, self.local = {cpus[-1]}, set(cpus[:-1])

    def _tasks(self, pid, kids):
        """Every thread of pid and of its descendants (sched_setaffinity acts on one thread)."""
        out = []
        try:
            out.extend(int(t) for t in os.listdir("/proc/%d/task" % pid))
        except OSError:
            return out
        for kid in kids.get(pid, ()):
            out.extend(self._tasks(kid, kids))
        return out

    def _apply(self, cloud, local):
        kids = self.meter._children()
        for part, pid in self.meter.pids.items():
            for tid in self._tasks(pid, kids):
                try:
                    os.sched_setaffinity(tid, cloud if part in self.CLOUD else local)
                except OSError:
                    pass  # a thread that ended meanwhile
        for tid in os.listdir("/proc/self/task"):
            try:
                os.sched_setaffinity(int(tid), local)
            except OSError:
                pass

    def apply(self):
        if self.enabled:
            self._apply(self.cloud, self.local)
            say("bench: pinned: cloud stand-ins on CPU %s; Samba, the bench and the module on CPU %s (BENCH_PIN=0 to run unpinned)"
                % (",".join(map(str, sorted(self.cloud))), ",".join(map(str, sorted(self.local)))))
        else:
            say("bench: not pinned (every process on every core)")

    def restore(self):
        if self.enabled:
            self._apply(self.all, self.all)


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


def smb_read_limit(env, rel, path, lanes_list):
    """Read the image's allocated extents over SMB (8 MiB reads, our SmbFileSource): best (rate, lanes), total."""
    from ansible_collections.citrix_community.ips.plugins.module_utils._disk import open_image
    from ansible_collections.citrix_community.ips.plugins.module_utils._sources import SmbFileSource
    import threading
    best = None
    for lanes in lanes_list:
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


def ingest_limit(env, nbytes, virtual, via, threads_list):
    """Put Page of `nbytes` from memory (4 MiB pages) via the plane's managed-disk SAS or straight to
    Azurite; best (rate, threads). Each disk/blob is deleted right after."""
    from ansible_collections.citrix_community.ips.plugins.module_utils._disk.footer import azure_upload_size
    import threading
    payload = os.urandom(4 * MIB)
    # with its Content-MD5, as ours sends every page (issue 18): the plane and Azurite check each page's hash on the
    # cloud core, so a limit measured without it is one no checked upload can reach (hashed once here: the client's
    # own hashing is ours' cost, not the target's)
    payload_md5 = hashlib.md5(payload).digest()  # nosec - Azure's transactional content hash
    pages = max(1, nbytes // (4 * MIB))
    best = None
    for threads in threads_list:
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
        local = threading.local()

        def put(i):
            if not hasattr(local, "c"):
                local.c = make()
            local.c.upload_page(payload, offset=i * 4 * MIB, length=4 * MIB, transactional_content_md5=payload_md5)

        try:
            start = time.monotonic()
            with concurrent.futures.ThreadPoolExecutor(threads) as pool:
                list(pool.map(put, range(pages)))
            rate = pages * 4 * MIB / (time.monotonic() - start)
        finally:
            cleanup()
        say("  put page from memory via %s, %d threads: %.1f MiB/s" % (via, threads, rate / MIB))
        if best is None or rate > best[0]:
            best = (rate, threads)
    return best


def target_opts(env, target, name):
    """The options dict of our upload to `target` in the lab."""
    if target == "azure":
        return {"subscription_id": env["IPS_LAB_AZURE_SUBSCRIPTION_ID"], "resource_group": env["IPS_LAB_AZURE_RESOURCE_GROUP"],
                "location": env["IPS_LAB_AZURE_LOCATION"], "tenant_id": env["IPS_LAB_AZURE_TENANT_ID"], "client_id": env["IPS_LAB_AZURE_CLIENT_ID"],
                "client_secret": env["IPS_LAB_AZURE_CLIENT_SECRET"], "authority": env["IPS_LAB_AZURE_AUTHORITY"],
                "arm_endpoint": env["IPS_LAB_AZURE_URL"], "ca_path": env["IPS_LAB_AZURE_CA_PATH"], "disk_name": name}
    if target == "aws":
        return {"region": "us-east-1", "access_key_id": env["IPS_LAB_AWS_ACCESS_KEY_ID"],
                "secret_access_key": env["IPS_LAB_AWS_SECRET_ACCESS_KEY"], "ebs_endpoint_url": env["IPS_LAB_EBS_URL"],
                "ec2_endpoint_url": env["IPS_LAB_MOTO_URL"], "snapshot_name": name}
    from google.auth.credentials import AnonymousCredentials
    from google.cloud import storage
    client = storage.Client(project="p", credentials=AnonymousCredentials(), client_options={"api_endpoint": env["IPS_LAB_GCS_URL"]})
    try:
        client.create_bucket("ips-bench")
    except Exception:
        pass
    return {"project": env["IPS_LAB_GCP_PROJECT"], "token": env["IPS_LAB_GCP_TOKEN"], "bucket": "ips-bench", "image_name": name,
            "storage_endpoint": env["IPS_LAB_GCS_URL"], "compute_endpoint": env["IPS_LAB_GCE_URL"], "compression_level": 1}


def ours(env, target, source, name, work, concurrency=None, rate_limit=None, tag=None):
    return run_module(tag or target, {"source": source, "target": target, target: target_opts(env, target, name), "journal_dir": str(work / "journal"),
                                      "concurrency": concurrency, "overwrite": "always", "rate_limit": rate_limit}, work)


def fan_out(env, targets, source, name, work, rate_limit=None, tag="fanout"):
    """One ips_upload with target: [azure, aws, gcp] - the source read once for all three."""
    args = {"source": source, "target": list(targets), "journal_dir": str(work / "journal"), "overwrite": "always", "rate_limit": rate_limit}
    for target in targets:
        args[target] = target_opts(env, target, name)
    return run_module(tag, args, work)


# The clouds' real caps (docs/lab.md, "Per-object caps"; reference upload-perf.md section 1), scaled by one factor for
# the capped fan-out: Azure's disk tier (60 MB/s for a 2-16 GiB disk) to BENCH_CAP_MIB_S (8 MiB/s, 0.14 of it, as
# bench/caps.py), EBS's 1,000 blocks/s per snapshot by the same factor; Cloud Storage's one write per second per object
# stays real: it is a request rate on one object name, not a throughput (every part is an object of its own).
AZURE_TIER_BYTES_S = 60 * 1000 * 1000
EBS_BLOCKS_S = 1000
EBS_BLOCK = 512 * 1024


def cloud_caps(cap_mib_s):
    """{plane: (admin part, config key, value)} and the scale of the capped fan-out; rate_limit per target (MiB/s):
    each upload paced at its own cloud's cap, as docs/upload.md advises (the fan-out: at the slowest one's)."""
    scale = cap_mib_s * MIB / float(AZURE_TIER_BYTES_S)
    ebs = max(1, int(round(EBS_BLOCKS_S * scale)))
    planes = {"azure": ("azure", "disk_upload_cap", cap_mib_s * MIB), "ebs": ("ebs", "snapshot_block_cap", ebs), "gce": ("gce", "object_write_cap", "real")}
    pace = {"azure": cap_mib_s, "aws": ebs * EBS_BLOCK / float(MIB), "gcp": None}
    return planes, pace, scale


def set_caps(env, planes, on):
    sys.path.insert(0, str(REPO / "lab"))
    from ips_lab.common.admin import LabAdmin
    for part, key, value in planes.values():
        LabAdmin.from_env(env, part).set_config(**{key: value if on else 0})


def run_module(target, args, work):
    """Run the ips_upload module itself (as Ansible runs it: its own process). Wall time and CPU come from
    wait4 on that process; its peak RSS is its VmHWM, polled every 20 ms (ru_maxrss of a child starts at the
    parent's high-water mark - the bench's own, a few hundred MiB after the limit steps); the transfer phase (from "upload"
    to "finish" in the progress file, polled every 20 ms) is timed too: the rest is process start,
    imports and the control plane (C_fixed of the bound)."""
    import threading
    args_file = work / ("args-%s.json" % target)
    progress_file = work / ("progress-%s.json" % target)
    if progress_file.exists():
        progress_file.unlink()
    args = dict(args, progress_file=str(progress_file))
    args_file.write_text(json.dumps({"ANSIBLE_MODULE_ARGS": dict((k, v) for k, v in args.items() if v is not None)}))
    cmd = [sys.executable, "-m", "ansible_collections.citrix_community.ips.plugins.modules.ips_upload", str(args_file)]
    if os.environ.get("BENCH_PROFILE"):
        # the same module under bench/profile_upload.py: each thread group's CPU and what it waited on, into that folder
        Path(os.environ["BENCH_PROFILE"]).mkdir(parents=True, exist_ok=True)
        cmd = [sys.executable, str(REPO / "bench" / "profile_upload.py"), str(args_file), "--out",
               str(Path(os.environ["BENCH_PROFILE"]) / ("profile-%s-%d.json" % (target, time.time())))]
    out_file, err_file = work / ("out-%s.json" % target), work / ("err-%s.txt" % target)
    phases = {}
    hwm = [0]
    done = threading.Event()

    def watch():
        while not done.is_set():
            try:
                with open("/proc/%d/status" % proc.pid) as f:
                    hwm[0] = max(hwm[0], int([line for line in f if line.startswith("VmHWM:")][0].split()[1]))
            except (OSError, ValueError, IndexError):
                pass
            try:
                phase = json.loads(progress_file.read_text()).get("phase")
            except (OSError, ValueError):
                phase = None
            if phase and phase not in phases:
                phases[phase] = time.monotonic()
            time.sleep(0.02)

    with open(out_file, "wb") as out, open(err_file, "wb") as err:
        start = time.monotonic()
        proc = subprocess.Popen(cmd, stdout=out, stderr=err)
        watcher = threading.Thread(target=watch)
        watcher.start()
        _pid, status, ru = os.wait4(proc.pid, 0)
        wall = time.monotonic() - start
        done.set()
        watcher.join()
        proc.returncode = os.waitstatus_to_exitcode(status)
    args_file.unlink()
    text = out_file.read_text()
    try:
        result = json.loads(text)
    except ValueError:
        result = {"failed": True, "msg": text[-2000:] + err_file.read_text()[-2000:]}
    if proc.returncode or result.get("failed"):
        raise SystemExit("bench: our %s upload failed: %s" % (target, result.get("msg")))
    peak = hwm[0] / 1024.0
    end = min([phases[p] for p in ("finish", "verify", "done") if p in phases] or [start + wall])
    transfer = end - phases.get("upload", start)
    result.update(wall=wall, transfer=transfer, peak_rss_mib=peak, cpu_s=ru.ru_utime + ru.ru_stime)
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


def naive(env, fixed, convert, work, sample=None):
    """The fixed VHD (made by to_fixed), every 4 MiB of it Put Page'd in order by one thread; with `sample`,
    only its first `sample` bytes, the upload time scaled to the whole file."""
    start = time.monotonic()
    size = fixed.stat().st_size
    limit = min(size, sample or size)
    make, cleanup = plane_disk(env, "bench-naive-%s" % uuid.uuid4().hex[:6], size)
    blob = make()
    buf = bytearray(4 * MIB)
    try:
        with open(fixed, "rb", buffering=0) as f:
            pos = 0
            while pos < limit:
                n = f.readinto(memoryview(buf)[:min(len(buf), limit - pos)])
                n -= n % 512
                if n <= 0:
                    break
                blob.upload_page(bytes(buf[:n]), offset=pos, length=n)
                pos += n
        upload = (time.monotonic() - start) * size / float(pos)
    finally:
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


def remove_ours(env, target, name):
    """Delete what our upload of `target` made: the managed disk; the EBS snapshot (moto reset: it keeps
    every block in memory); the GCS object and the GCE image."""
    try:
        if target == "azure":
            compute, _ca = azure_clients(env)
            rg = env["IPS_LAB_AZURE_RESOURCE_GROUP"]
            try:
                compute.disks.begin_revoke_access(rg, name).result()
            except Exception:  # already revoked by the module
                pass
            compute.disks.begin_delete(rg, name).result()
        elif target == "aws":
            urllib.request.urlopen(urllib.request.Request(env["IPS_LAB_MOTO_URL"].rstrip("/") + "/moto-api/reset", data=b"", method="POST"),
                                   timeout=60).read()
        else:
            from google.auth.credentials import AnonymousCredentials
            from google.cloud import storage
            client = storage.Client(project="p", credentials=AnonymousCredentials(), client_options={"api_endpoint": env["IPS_LAB_GCS_URL"]})
            bucket = client.bucket("ips-bench")
            for blob in list(client.list_blobs("ips-bench", prefix=name)):
                bucket.blob(blob.name).delete()
            req = urllib.request.Request("%s/compute/v1/projects/%s/global/images/%s" % (env["IPS_LAB_GCE_URL"].rstrip("/"), env["IPS_LAB_GCP_PROJECT"], name),
                                         method="DELETE", headers={"Authorization": "Bearer " + env["IPS_LAB_GCP_TOKEN"]})
            urllib.request.urlopen(req, timeout=60).read()
            # the emulator only soft-deletes (it keeps every deleted object on disk): wipe it, buckets kept
            urllib.request.urlopen(env["IPS_LAB_GCS_URL"].rstrip("/") + "/wipe?keep-buckets=1", timeout=60).read()
    except Exception as exc:  # pylint: disable=broad-except
        say("  cleanup of our %s upload %s failed: %s" % (target, name, exc))


def measured(meter, parts, func, *args):
    """func(*args) with its wall time, the CPU-seconds of this process and those of each stand-in in `parts`."""
    a = meter.sample()
    start = time.monotonic()
    value = func(*args)
    wall = time.monotonic() - start
    b = meter.sample()
    return value, wall, b["self"] - a["self"], dict((part, max(0.0, b.get(part, 0.0) - a.get(part, 0.0))) for part in parts)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--env", required=True)
    ap.add_argument("--size", default="quick", choices=sorted(SIZES))
    ap.add_argument("--targets")
    ap.add_argument("--rounds", type=int)
    ap.add_argument("--concurrency", type=int, help="our Azure upload's concurrency (default: the target's)")
    ap.add_argument("--connections", type=int, help="our Azure upload's SMB connections (default: the read limit's best lane count)")
    ap.add_argument("--cap-mib-s", type=float, default=8.0, help="the capped fan-out (3c): Azure's cap per disk in MiB/s, the other clouds' "
                    "scaled alike (default 8; 0: the clouds' own; -1 skips it)")
    ap.add_argument("--pin", type=int, default=1, help="1: the cloud stand-ins on one core, the rest on the others (default); 0: no pinning")
    args = ap.parse_args()
    env = read_env(args.env)
    targets = (args.targets or ("azure,aws,gcp" if args.size == "quick" else "azure,aws")).split(",")
    virtual = SIZES[args.size]
    rounds = args.rounds or ROUNDS[args.size]
    share = Path(env["IPS_LAB_SMB_EXPORT_DIR"]) / ("bench-" + args.size)
    work = Path(env["IPS_LAB_RUN_DIR"]) / "bench-work"
    free = free_bytes(share.parent)
    # the image (~0.33 x virtual) plus the naive baseline's fixed VHD (qemu-img writes it sparse: ~ the same)
    need = 0 if (share / "bench.vhdx").exists() else int(virtual * 0.35)
    need += int(virtual * 0.35) if "azure" in targets else 0
    if free - need < MIN_FREE:
        raise SystemExit("bench: %.1f GiB free, the %s run needs ~%.1f GiB and keeps %d GiB free; free some space first"
                         % (free / GIB, args.size, need / GIB, MIN_FREE // GIB))
    share.mkdir(parents=True, exist_ok=True)
    work.mkdir(exist_ok=True)
    meter = CpuMeter(env["IPS_LAB_RUN_DIR"], ("samba", "azure", "azurite", "ebs", "moto", "gcs", "gce"))
    pinning = Pinning(meter, bool(args.pin))
    try:
        pinning.apply()
        summary = run(env, args, targets, virtual, rounds, share, work, meter)
    finally:
        pinning.restore()
        shutil.rmtree(str(work), ignore_errors=True)
        if not os.environ.get("BENCH_KEEP_IMAGE"):
            shutil.rmtree(str(share), ignore_errors=True)
    say(summary)


def med(values):
    return statistics.median(values) if values else float("nan")


def run(env, args, targets, virtual, rounds, share, work, meter):
    say("bench: building a %d GiB dynamic VHDX (30 %% allocated, 10 %% of it zero) on the share (%.1f GiB free)"
        % (virtual // GIB, free_bytes(share) / GIB))
    image = build_image(share, virtual)
    rel = "%s/%s" % (share.name, image.name)
    v, allocated, nonzero = nonzero_bytes(image)
    say("  virtual %.0f MiB, allocated %.0f MiB, non-zero %.0f MiB" % (v / MIB, allocated / MIB, nonzero / MIB))
    azure_parts = ("azure", "azurite")

    t_naive = ac = convert = None
    if "azure" in targets:
        say("bench: 1. naive baseline (qemu-img convert to fixed VHD, sequential Put Page of the whole file)")
        drop_cache(image)
        fixed, convert = to_fixed(image, work)
        try:
            # the naive upload writes the whole virtual size into Azurite (zeros included)
            sample = NAIVE_SAMPLE[args.size]
            if room_for(work, sample or virtual, "the naive baseline", wait=60):
                drop_cache(fixed)
                convert, upload = naive(env, fixed, convert, work, sample)
                t_naive = convert + upload
                note = " (the first %d GiB sent, the time scaled to %d GiB)" % (sample // GIB, virtual // GIB) if sample else ""
                say("  convert %.1f s + upload %.1f s%s = %.1f s" % (convert, upload, note, t_naive))
            say("bench: 1b. AzCopy (the same fixed VHD, page blob straight to Azurite)")
            if args.size != "quick":
                say("  quick runs only (it writes every non-zero byte into Azurite once more)")
            elif room_for(work, nonzero, "AzCopy", wait=60):
                ac = azcopy(env, fixed, work)
                if ac is None:
                    say("  AzCopy is not installed (bench/run.sh installs it with npm); skipped")
                else:
                    say("  azcopy %.1f s (+ convert %.1f s), read %.0f MiB (the whole fixed file), sent %.0f MiB, peak RSS %.0f MiB, CPU %.1f s"
                        % (ac[0], convert, ac[3] / MIB, ac[4] / MIB, ac[1], ac[2]))
        finally:
            os.unlink(str(fixed))

    ingest_bytes = min(nonzero, INGEST_CAP[args.size] or nonzero)
    az_rounds = []
    runs = {}
    lanes = None
    if "azure" in targets:
        say("bench: 2. %d Azure round(s), back to back, alternating order: SMB read limit, ingest limit (Put Page of %.0f MiB from "
            "memory via the plane), ours" % (rounds, ingest_bytes / MIB))
        lanes, threads = (1, 2, 4), (4, 8)
        for r in range(rounds):
            rec = {}

            def step_smb():
                (rate, best), total = smb_read_limit(env, rel, image, lanes)
                rec["smb"] = (rate, best, total)

            def step_ingest():
                if not room_for(work, ingest_bytes, "the ingest limit"):
                    raise SystemExit("bench: stopped: no disk space for the ingest limit")
                rec["ingest"] = ingest_limit(env, ingest_bytes, virtual, "plane", threads)
                if args.size == "quick" and r == 0:
                    rec["azurite"] = ingest_limit(env, ingest_bytes, virtual, "azurite", (8,))

            def step_ours():
                if not room_for(work, nonzero, "our Azure upload"):
                    raise SystemExit("bench: stopped: no disk space for our Azure upload")
                drop_cache(image)
                name = "bench-azure-%s" % uuid.uuid4().hex[:6]
                try:
                    # the module reads over as many SMB connections as the read limit's best lane count (or --connections)
                    best_lanes = rec["smb"][1] if "smb" in rec else lanes[0]
                    source = dict(smb_source(env, rel), connections=args.connections or best_lanes)
                    rec["ours"] = ours(env, "azure", source, name, work, args.concurrency)
                finally:
                    remove_ours(env, "azure", name)

            steps = [("smb", step_smb, ("samba",)), ("ingest", step_ingest, azure_parts), ("ours", step_ours, ("samba",) + azure_parts)]
            if r % 2:
                steps.reverse()
            say("  round %d: %s" % (r + 1, ", ".join(n for n, _f, _p in steps)))
            for n, func, parts in steps:
                _v, wall, client, standins = measured(meter, parts, func)
                rec[n + "_cpu"] = (wall, client, sum(standins.values()))
                say("    %s: %.1f s, CPU-s: bench %.1f, %s" % (n, wall, client, ", ".join("%s %.1f" % kv for kv in sorted(standins.items()))))
            o = rec["ours"]
            say("  ours  %.1f s, read %.0f MiB, sent %.0f MiB, %.1f MiB/s read, peak RSS %.0f MiB, CPU %.1f s (+ stand-ins %.1f s)"
                % (o["wall"], o["bytes_read"] / MIB, o["bytes_sent"] / MIB, o["bytes_read"] / MIB / o["wall"], o["peak_rss_mib"], o["cpu_s"],
                   rec["ours_cpu"][2]))
            lanes, threads = (rec["smb"][1],), (rec["ingest"][1],)
            az_rounds.append(rec)
        runs["azure"] = sorted((x["ours"] for x in az_rounds), key=lambda o: o["wall"])[len(az_rounds) // 2]

    for target in targets:
        if target == "azure":
            continue
        # the Azure rounds' best lane count, or --connections, or the module's default
        connections = args.connections or (lanes[0] if lanes else None)
        say("bench: 3. ours, %s, end to end from the share (SMB connections: %s)" % (target, connections or "the module's default"))
        if not room_for(work, 2 * nonzero if target == "gcp" else 0, "our %s upload" % target):
            continue
        drop_cache(image)
        name = "bench-%s-%s" % (target, uuid.uuid4().hex[:6])
        try:
            (r, wall, _client, per_part) = measured(meter, ("samba", "ebs", "moto") if target == "aws" else ("samba", "gcs", "gce"),
                                                    ours, env, target, dict(smb_source(env, rel), connections=connections), name, work)
        finally:
            remove_ours(env, target, name)
        standins = r["standins_cpu_s"] = sum(per_part.values())
        runs[target] = r
        say("  %-5s %.1f s, read %.0f MiB, sent %.0f MiB, %.1f MiB/s read, peak RSS %.0f MiB, CPU %.1f s (+ stand-ins %.1f s)"
            % (target, r["wall"], r["bytes_read"] / MIB, r["bytes_sent"] / MIB, r["bytes_read"] / MIB / r["wall"], r["peak_rss_mib"], r["cpu_s"],
               standins))

    fan = None
    if all(t in runs for t in ("azure", "aws", "gcp")):
        connections = args.connections or (lanes[0] if lanes else None)
        say("bench: 3b. ours, one fan-out to azure+aws+gcp, end to end from the share (the image read once)")
        if room_for(work, 3 * nonzero, "our fan-out upload"):
            drop_cache(image)
            name = "bench-fan-%s" % uuid.uuid4().hex[:6]
            try:
                (fan, _wall, _client, per_part) = measured(meter, ("samba", "azure", "azurite", "ebs", "moto", "gcs", "gce"), fan_out, env,
                                                           ("azure", "aws", "gcp"), dict(smb_source(env, rel), connections=connections), name, work)
            finally:
                for target in ("azure", "aws", "gcp"):
                    remove_ours(env, target, name)
            fan["standins_cpu_s"] = sum(per_part.values())
            slowest = max(runs[t]["wall"] for t in ("azure", "aws", "gcp"))
            say("  fan-out %.1f s (slowest single-target upload %.1f s), read %.0f MiB once, sent %.0f MiB, peak RSS %.0f MiB, CPU %.1f s "
                "(+ stand-ins %.1f s)" % (fan["wall"], slowest, fan["bytes_read"] / MIB, fan["bytes_sent"] / MIB, fan["peak_rss_mib"],
                                          fan["cpu_s"], fan["standins_cpu_s"]))

    capped = {}
    if fan is not None and args.cap_mib_s >= 0:
        # 3c. the same singles and fan-out against the clouds' caps: the clouds, not this machine's two cores, set the pace
        planes, pace, scale = cloud_caps(args.cap_mib_s or AZURE_TIER_BYTES_S / float(MIB))
        say("bench: 3c. the clouds' caps on, scaled by %.3f: Azure %.1f MiB/s per disk, EBS %d blocks/s per snapshot (%.0f MiB/s), Cloud "
            "Storage 1 write/s per object (real); each single upload paced at its cloud's cap (rate_limit), the fan-out at the slowest"
            % (scale, planes["azure"][2] / MIB, planes["ebs"][2], pace["aws"]))
        connections = args.connections or (lanes[0] if lanes else None)
        set_caps(env, planes, True)
        try:
            for target in ("azure", "aws", "gcp"):
                drop_cache(image)
                name = "bench-cap-%s-%s" % (target, uuid.uuid4().hex[:6])
                try:
                    r = ours(env, target, dict(smb_source(env, rel), connections=connections), name, work, rate_limit=pace[target],
                             tag=target + "-capped")
                finally:
                    remove_ours(env, target, name)
                capped[target] = r
                say("  %-5s capped %.1f s (transfer %.1f s), sent %.0f MiB, throttled %s, peak RSS %.0f MiB, CPU %.1f s"
                    % (target, r["wall"], r["transfer"], r["bytes_sent"] / MIB, r.get("throttled", 0), r["peak_rss_mib"], r["cpu_s"]))
            drop_cache(image)
            name = "bench-capfan-%s" % uuid.uuid4().hex[:6]
            try:
                r = fan_out(env, ("azure", "aws", "gcp"), dict(smb_source(env, rel), connections=connections), name, work,
                            rate_limit=min(p for p in pace.values() if p), tag="fanout-capped")
            finally:
                for target in ("azure", "aws", "gcp"):
                    remove_ours(env, target, name)
            capped["fan"] = r
            say("  fan-out capped %.1f s (transfer %.1f s; slowest single capped %.1f s), read %.0f MiB, sent %.0f MiB, peak RSS %.0f MiB, CPU %.1f s"
                % (r["wall"], r["transfer"], max(capped[t]["wall"] for t in ("azure", "aws", "gcp")), r["bytes_read"] / MIB, r["bytes_sent"] / MIB,
                   r["peak_rss_mib"], r["cpu_s"]))
        finally:
            set_caps(env, planes, False)

    say("bench: 4. figures")
    ncpu = os.cpu_count() or 1
    eff_tr, eff_bound = [], []
    if az_rounds:
        eff, t_smbs, t_ings, t_ours, eff_cpu = [], [], [], [], []
        for k, rec in enumerate(az_rounds):
            t_smb = allocated / rec["smb"][0]
            t_ing = nonzero / rec["ingest"][0]
            o = rec["ours"]
            cpu_ours = o["cpu_s"] + rec["ours_cpu"][2]
            c_fixed = max(0.0, o["wall"] - o["transfer"])
            eff.append(max(t_smb, t_ing) / o["wall"])
            eff_bound.append((c_fixed + max(t_smb, t_ing)) / o["wall"])
            eff_tr.append(max(t_smb, t_ing) / o["transfer"])
            # what two cores allow for the work ours does: the CPU-seconds of the module and of the stand-ins it drives / cores
            eff_cpu.append(max(t_smb, t_ing, cpu_ours / ncpu) / o["transfer"])
            t_smbs.append(t_smb)
            t_ings.append(t_ing)
            t_ours.append(o["wall"])
            sw, sc, ss = rec["smb_cpu"]
            iw, ic, is_ = rec["ingest_cpu"]
            say("  round %d: T_smb %.1f s (%.0f MiB/s, %d lanes; CPU client %.1f + Samba %.1f s), T_ingest %.1f s (%.0f MiB/s, %d threads; "
                "CPU client %.1f + plane/Azurite %.1f s, scaled to the non-zero bytes), T_ours %.1f s (CPU module %.1f + stand-ins %.1f s = %.1f s "
                "= %.1f s of %d cores; transfer phase %.1f s, C_fixed %.1f s) -> efficiency %.2f (with C_fixed in the bound %.2f; transfer phase alone %.2f)"
                % (k + 1, t_smb, rec["smb"][0] / MIB, rec["smb"][1], sc * allocated / rec["smb"][2], ss * allocated / rec["smb"][2],
                   t_ing, rec["ingest"][0] / MIB, rec["ingest"][1], ic * nonzero / ingest_bytes, is_ * nonzero / ingest_bytes,
                   o["wall"], o["cpu_s"], rec["ours_cpu"][2], cpu_ours, cpu_ours / ncpu, ncpu, o["transfer"], c_fixed, eff[-1], eff_bound[-1], eff_tr[-1]))
        if "azurite" in az_rounds[0]:
            say("  ingest straight to Azurite (round 1): %.1f MiB/s" % (az_rounds[0]["azurite"][0] / MIB))
        say("  medians over %d round(s): T_smb %.1f s, T_ingest %.1f s, T_ours %.1f s (%.1f MiB/s of allocated data), T_naive %s; "
            "efficiency max(T_smb, T_ingest) / T_ours %.2f (min %.2f, max %.2f); with C_fixed in the bound (section 5.3) %.2f; "
            "transfer phase alone %.2f; "
            "transfer phase against max(T_smb, T_ingest, CPU-s of ours / %d cores): %.2f"
            % (len(az_rounds), med(t_smbs), med(t_ings), med(t_ours), allocated / MIB / med(t_ours),
               "%.1f s" % t_naive if t_naive else "skipped", med(eff), min(eff), max(eff), med(eff_bound), med(eff_tr), ncpu, med(eff_cpu)))
    if ac is not None:
        say("  azcopy: read_ratio=%.3f sent_ratio=%.3f cpu_s_per_gib=%.2f peak_rss_mib=%.0f time=%.1f s (%.1f s with the conversion)"
            % (ac[3] / float(allocated), ac[4] / float(nonzero), ac[2] / max(ac[4] / float(GIB), 1e-9), ac[1], ac[0], ac[0] + convert))
    for target, r in runs.items():
        say("  %s: read_ratio=%.3f sent_ratio=%.3f cpu_s_per_gib=%.2f peak_rss_mib=%.0f wall=%.1f s" % (
            target, r["bytes_read"] / float(allocated), r["bytes_sent"] / float(nonzero), r["cpu_s"] / max(r["bytes_sent"] / float(GIB), 1e-9),
            r["peak_rss_mib"], r["wall"]))
    fan_figures = ""
    if fan is not None:
        # fanout_ratio: against the clouds' caps (the goal, <= 1.15); _uncapped: this machine's CPU sets the pace (information)
        if "fan" in capped:
            fan_figures += " fanout_ratio=%.2f fanout_capped_read_ratio=%.3f fanout_capped_peak_rss_mib=%.0f" % (
                capped["fan"]["wall"] / max(capped[t]["wall"] for t in ("azure", "aws", "gcp")), capped["fan"]["bytes_read"] / float(allocated),
                capped["fan"]["peak_rss_mib"])
        fan_figures += " fanout_ratio_uncapped=%.2f fanout_read_ratio=%.3f fanout_peak_rss_mib=%.0f" % (
            fan["wall"] / max(runs[t]["wall"] for t in ("azure", "aws", "gcp")), fan["bytes_read"] / float(allocated), fan["peak_rss_mib"])
    peak = max([r["peak_rss_mib"] for r in runs.values()] + [x["ours"]["peak_rss_mib"] for x in az_rounds])
    az = runs.get("azure")
    if not az:
        return "bench: peak_rss_mib=%.0f (no Azure run: ratios need it)" % peak
    read_ratio = max(x["ours"]["bytes_read"] for x in az_rounds) / float(allocated)
    sent_ratio = max(x["ours"]["bytes_sent"] for x in az_rounds) / float(nonzero)
    speedup = (t_naive / med(t_ours)) if t_naive else float("nan")
    sent_gib = az["bytes_sent"] / float(GIB)
    cpu_per_gib = med([x["ours"]["cpu_s"] for x in az_rounds]) / sent_gib if sent_gib else 0.0
    return ("bench: read_ratio=%.3f sent_ratio=%.3f speedup_vs_naive=%.2f efficiency=%.2f peak_rss_mib=%.0f cpu_s_per_gib=%.2f "
            "efficiency_bound=%.2f efficiency_transfer=%.2f%s"
            % (read_ratio, sent_ratio, speedup, med(eff), peak, cpu_per_gib, med(eff_bound), med(eff_tr), fan_figures))


if __name__ == "__main__":
    main()
