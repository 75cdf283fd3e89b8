"""The fault matrix of issue 18: each stage under each fault the lab can inject completes (after a re-run where
the fault is fatal) with byte-exact artifacts, no duplicate job or target, and no bytes re-sent beyond those in flight.

Fast cells (in `make test`) put one burst of faults on one run: a 429 storm with Retry-After, 503s and dropped
connections on the stage's own requests (data writes for uploads, job polls for the Citrix stages), plus
token expiry for the job stages. Long variants (`make test-long`) take one fault per run, restart a plane
mid-upload, and SIGKILL an upload to Google Cloud. The other kill-and-re-run cells are in tests/integration
(test_upload_modules: Azure and EBS uploads, the upload role's background upload; test_job_modules:
export and prepare; test_migrate_role: the whole migration) and are listed in docs/reliability.md.
"""

import json
import re
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from reliability_helpers import INTEGRATION, TALLY, integration_conftest
from reliability_helpers import load as _load

_up = _load("integration_upload_helpers_for_reliability", INTEGRATION / "test_upload_modules.py")
_jobs = _load("integration_job_helpers_for_reliability", INTEGRATION / "test_job_modules.py")
PlaneAdmin = _up.PlaneAdmin
MIB = 1024 * 1024

# stage -> (plane, path regex of the requests the faults hit, method)
UPLOAD_FAULT_PATHS = {"azure": ("azure", r"^/md-impexp/", "PUT"), "aws": ("ebs", r"^/snapshots/[^/]+/blocks/", "PUT"),
                      "gcp": ("gce", r"/global/", "GET")}
BURST = (dict(action="status", status=429, retry_after=1, times=3), dict(action="status", status=503, times=2), dict(action="drop", times=2))
# one job poll in a row meets them all: within the client's default budget of 5 retries per request (max_retries)
JOB_BURST = (dict(action="status", status=429, retry_after=1, times=2), dict(action="status", status=503, times=1), dict(action="drop", times=1))
# two answers later than the request_timeout (3 s) the slow-answer cells set
SLOW = (dict(action="slow", delay=4, times=2),)


def _faults(admin, path, method, burst):
    tried = 0
    for fault in burst:
        admin.add_fault(path, method=method, **fault)
        tried += fault["times"]
    return tried


def _survived(admin, tried):
    left = sum(f.get("times", 0) for f in admin.faults())
    admin.clear_faults()
    return tried - left


def _image(lab_env, name="dynamic.vhdx", size=24 * MIB):
    folder = Path(lab_env["IPS_LAB_SMB_EXPORT_DIR"]) / ("fault-" + uuid.uuid4().hex[:6])
    folder.mkdir(parents=True)
    path, ref = _up.make_image(folder, name, size=size, seed=18)
    return path, ref


def _opts(lab_env, target, name):
    if target == "gcp":
        _up.ensure_bucket(lab_env)
    return {"azure": _up.azure_opts, "aws": _up.aws_opts, "gcp": _up.gcp_opts}[target](lab_env, name)


def _check(lab_env, target, name, ref):
    {"azure": _up.check_azure, "aws": _up.check_aws, "gcp": _up.check_gcp}[target](lab_env, name, ref)


def _creates(lab_env, target, name, plane_admin):
    """How many times the target object was created, counted at the plane (a duplicate would be 2)."""
    if target == "azure":
        return len([r for r in plane_admin.requests() if r["method"] == "PUT" and r["path"].rstrip("/").endswith("/disks/" + name)])
    if target == "gcp":
        return len([r for r in plane_admin.requests() if r["method"] == "POST" and r["path"].endswith("/global/images")])
    ec2, _ebs = _up.ec2_ebs(lab_env)
    return len(ec2.describe_snapshots(OwnerIds=["self"], Filters=[{"Name": "tag:Name", "Values": [name]}])["Snapshots"])


def _upload_cell(lab_env, tmp_path, target, prefix, burst, **args):
    """One upload to `target` with `burst` on the stage's own requests (UPLOAD_FAULT_PATHS): it completes byte-exact with
    every fault met and one target object. Returns (the plane's admin, the module's result, faults tried)."""
    plane, path, method = UPLOAD_FAULT_PATHS[target]
    admin = PlaneAdmin.from_env(lab_env, plane)
    admin.clear_faults()
    admin.clear_requests()
    image, ref = _image(lab_env, size=args.pop("size", 24 * MIB))
    name = "%s-%s" % (prefix, uuid.uuid4().hex[:6])
    tried = _faults(admin, path, method, burst)
    result = _up.run_module(dict({"source": {"location": str(image)}, "target": target, target: _opts(lab_env, target, name),
                                  "journal_dir": str(tmp_path / "journal"), "retries": 8}, **args), tmp_path)
    survived = _survived(admin, tried)
    assert result["changed"] and survived == tried, (survived, tried)
    _check(lab_env, target, name, ref)
    assert _creates(lab_env, target, name, admin) == 1, "the target was created more than once"
    return admin, result, tried


@pytest.mark.parametrize("target", ["azure", "aws", "gcp"])
def test_upload_survives_a_fault_burst(lab, lab_env, tmp_path, target):
    admin, result, tried = _upload_cell(lab_env, tmp_path, target, "fault", BURST)
    resent = 0
    if target in ("azure", "aws"):
        puts = _up.data_puts(admin, target, result.get("snapshot_id"))
        stored = [(p, n) for p, n, status in puts if status and 200 <= status < 300]
        # a refused or dropped write stores nothing, so nothing is stored twice: the plane stored exactly bytes_sent
        resent = sum(n for _p, n in stored) - result["bytes_sent"]
        assert resent == 0, "the plane stored %d bytes more than bytes_sent" % resent
        if target == "aws":
            assert len(stored) == len(set(p for p, _n in stored)), "a block was stored twice"
    _tally(tried, resent=resent)


@pytest.mark.parametrize("target", ["azure", "aws", "gcp"])
def test_upload_survives_answers_slower_than_the_request_timeout(lab, lab_env, tmp_path, target):
    """Two of the stage's own requests (data writes; GCP: Compute Engine polls) are answered only after 4 s, past the
    module's request_timeout of 3 s: the client gives up on each, the shared retry sends it again, and the upload
    completes byte-exact with one target. (The plane still carries out a write it answers late, as a cloud does: the
    same bytes at the same place, so it is stored twice and harmlessly.)"""
    _admin, result, tried = _upload_cell(lab_env, tmp_path, target, "slow", SLOW, request_timeout=3)
    if target != "gcp":  # `retries` counts the data writes' retries (GCP's faults are on its Compute Engine polls)
        assert result["retries"] >= tried, result["retries"]
    _tally(tried)


def _tally(tried, resent=0, duplicates=0):
    """Count one cell whose `tried` faults were all survived."""
    TALLY.update(cells=TALLY["cells"] + 1, faults_tried=TALLY["faults_tried"] + tried, faults_survived=TALLY["faults_survived"] + tried,
                 bytes_resent=TALLY["bytes_resent"] + resent, duplicate_jobs=TALLY["duplicate_jobs"] + duplicates)


def _job_cell(lab, lab_env, run_target, test_secrets, tmp_path, target, verb, burst, token_ttl=None, **extra):
    """One job stage (ips_export, ips_prepare, ips_publish: their `attach` case) with `burst` on its job polls, the token
    expiring every `token_ttl` s: it completes with every fault met and one job submitted. Returns the faults tried."""
    _jobs.seed_wallet(lab_env, test_secrets)
    t = _jobs.ips_t(lab_env, "attach", aws_snapshot="snap-0", **extra)
    if target == "ips_prepare":
        _jobs.seed_clouds(lab_env, tmp_path, t["run"], azure=["win11-%s"])
    lab.set_config(job_seconds=6, token_ttl=token_ttl or 3600)
    tried = _faults(lab, r"/jobs/", "GET", burst)
    try:
        run = run_target(target, dict(ips_t=t), env=_jobs.module_env(lab_env))
        assert run.rc == 0, _jobs.failures(run.output) or run.output[-4000:]
        run.assert_no_secret(_jobs.secrets_of(lab_env, test_secrets))
    finally:
        lab.set_config(token_ttl=3600)
    survived = _survived(lab, tried)
    posts = len(_jobs.job_posts(lab, verb))
    assert survived == tried and posts == 1, (survived, tried, posts)
    if token_ttl:
        tokens = len([r for r in lab.requests() if "/tokens/clients" in r["path"]])
        assert tokens >= 2, tokens
    return tried


JOB_STAGES = [("ips_export", "export"), ("ips_prepare", "prepare"), ("ips_publish", "export")]


@pytest.mark.parametrize("target,verb", JOB_STAGES)
def test_job_stage_survives_a_fault_burst_and_token_expiry(lab, lab_env, run_target, test_secrets, tmp_path, target, verb):
    """Job polls answered 429 (Retry-After), 503 and dropped, while the token expires every 2 s: the stage completes
    with one job submitted. (ips_publish's job is an export into the PVS store.)"""
    tried = _job_cell(lab, lab_env, run_target, test_secrets, tmp_path, target, verb, JOB_BURST, token_ttl=2)
    _tally(tried + 1)  # the token expiry is a fault too


@pytest.mark.parametrize("target,verb", JOB_STAGES)
def test_job_stage_survives_answers_slower_than_the_request_timeout(lab, lab_env, run_target, test_secrets, tmp_path, target, verb):
    """Two job polls answered after 4 s, past request_timeout 3: each is given up and asked again (a GET), one job."""
    _tally(_job_cell(lab, lab_env, run_target, test_secrets, tmp_path, target, verb, SLOW, request_timeout=3))


CRED_PLAY = """
- name: Credential push under faults
  hosts: localhost
  gather_facts: false
  tasks:
    - name: Push the credential
      citrix_community.ips.ips_credential:
        name: "{{ cred }}"
        type: username_password
        username: fault-user
        password: "{{ secret }}"
        request_timeout: "{{ request_timeout }}"
"""
CATALOG_PLAY = """
- name: Catalog update under faults
  hosts: localhost
  gather_facts: false
  tasks:
    - name: Update the catalog's master image
      citrix_community.ips.ips_mcs_catalog_image:
        catalog: lab-mcs-catalog
        azure_disk: {resource_group: ips-lab-rg, name: "{{ disk }}"}
        wait_sleep: 1
        request_timeout: "{{ request_timeout }}"
"""
CATALOG_JOB = "UpdateMachineCatalogProvisioningScheme"


def _play_cell(lab, lab_env, tmp_path, play, extra_vars, faults, request_timeout=60, token_ttl=None, secret=None):
    """Run `play` (one task) against the lab with `faults` ([(path, method, burst)]) on the Citrix stand-in and the token
    expiring every `token_ttl` s. Returns (the run, faults tried, faults met)."""
    from mcs_play import run_play
    lab.clear_faults()
    lab.clear_requests()
    tried = sum(_faults(lab, path, method, burst) for path, method, burst in faults)
    lab.set_config(token_ttl=token_ttl or 3600, daas_job_seconds=6)
    try:
        run = run_play(lab_env, tmp_path, play, dict(extra_vars, request_timeout=request_timeout), env_extra=_jobs.module_env(lab_env))
    finally:
        lab.set_config(token_ttl=3600, daas_job_seconds=4)  # the defaults
    assert secret is None or secret not in run.output, "the secret is in the output"
    assert lab_env["CITRIX_CLOUD_CLIENT_SECRET"] not in run.output
    if token_ttl:
        assert len([r for r in lab.requests() if "/tokens/clients" in r["path"]]) >= 2, "the token was never renewed"
    return run, tried, _survived(lab, tried)


def _credential_writes(lab, name):
    """The credential writes the stand-in carried out (2xx): a duplicate push would be 2."""
    return [r for r in lab.requests() if r["method"] in ("POST", "PUT") and re.search(r"/credentials(/%s)?$" % name, r["path"])
            and r["status"] and 200 <= r["status"] < 300]


# the credential's look-up (GET credentials/<name>) and its write (POST credentials): a POST is retried after a 429
# or a 503 (the service did not take it), never after a dropped connection (it may have)
CRED_LOOKUP, CRED_WRITE = r"/credentials/fault-[0-9a-f]+$", r"/credentials$"
WRITE_BURST = (dict(action="status", status=429, retry_after=1, times=2), dict(action="status", status=503, times=1))


def test_credential_push_survives_a_fault_burst_and_a_dropped_write(lab, lab_env, tmp_path):
    """ips_credential under 429 (Retry-After), 503 and a drop on its look-up and 429/503 on its write, the token
    expiring every 2 s (the Retry-After waits outlast it): one credential in the wallet. Then a dropped write, which the
    module must not repeat blindly: the task fails naming what to do, and the re-run pushes it once."""
    from lab_api import LabApi
    secret = "S3cret-%s" % uuid.uuid4().hex
    for phase in ("burst", "dropped"):
        name = "fault-%s" % uuid.uuid4().hex[:8]
        faults = [(CRED_LOOKUP, "GET", JOB_BURST), (CRED_WRITE, "POST", WRITE_BURST)] if phase == "burst" else \
            [(CRED_WRITE, "POST", (dict(action="drop", times=1),))]
        run, tried, survived = _play_cell(lab, lab_env, tmp_path, CRED_PLAY, {"cred": name, "secret": secret}, faults, secret=secret,
                                          token_ttl=2 if phase == "burst" else None)
        assert survived == tried, (survived, tried)
        writes = len(_credential_writes(lab, name))
        if phase == "dropped":
            assert run.rc != 0 and "not retried automatically" in run.output and "Traceback" not in run.output, run.output[-3000:]
            run, _t, _s = _play_cell(lab, lab_env, tmp_path, CRED_PLAY, {"cred": name, "secret": secret}, [], secret=secret)
            writes += len(_credential_writes(lab, name))
        assert run.rc == 0, run.output[-4000:]
        assert writes == 1, "the credential was written %d times" % writes
        held = LabApi(lab_env).call("GET", "credentials/%s" % name)  # the wallet shows metadata only
        assert (held["id"], held["type"]) == (name, "UsernamePassword"), held
        _tally(tried + (phase == "burst"))


def _catalog_cell(lab, lab_env, tmp_path, faults, **kw):
    """ips_mcs_catalog_image moves the lab's catalog to a new Azure disk under `faults`: one DaaS job, the catalog on the disk."""
    from mcs_play import jobs
    from ips_lab.planes.seed import azure_uploaded_disk
    disk = "fault-%s" % uuid.uuid4().hex[:6]
    azure_uploaded_disk(lab_env, disk)
    before = len([j for j in jobs(lab_env) if j["Type"] == CATALOG_JOB])
    run, tried, survived = _play_cell(lab, lab_env, tmp_path, CATALOG_PLAY, {"disk": disk}, faults, **kw)
    assert run.rc == 0, run.output[-4000:]
    made = len([j for j in jobs(lab_env) if j["Type"] == CATALOG_JOB]) - before
    from mcs_play import catalog
    held = catalog(lab_env, "lab-mcs-catalog")["ProvisioningScheme"]["MasterImage"]["XDPath"]
    assert survived == tried and made == 1 and held.endswith("\\%s.manageddisk" % disk), (survived, tried, made, held)
    return tried


def test_catalog_update_survives_a_fault_burst_and_token_expiry(lab, lab_env, tmp_path):
    """The DaaS job polls answered 429 (Retry-After), 503 and dropped, the update itself 429 and 503, the token expiring
    every 2 s: the catalog moves with one job."""
    tried = _catalog_cell(lab, lab_env, tmp_path, [(r"/cvad/manage/Jobs/", "GET", JOB_BURST),
                                                   (r"/\$UpdateProvisioningScheme$", "POST", WRITE_BURST)], token_ttl=2)
    _tally(tried + 1)


@pytest.mark.parametrize("stage", ["credential", "catalog"])
def test_citrix_stage_survives_answers_slower_than_the_request_timeout(lab, lab_env, tmp_path, stage):
    """Two of the stage's reads (the credential's look-up; the catalog update's job polls) answered after 4 s, past
    request_timeout 3: each is given up and asked again, and the stage completes once."""
    if stage == "credential":
        name = "fault-%s" % uuid.uuid4().hex[:8]
        run, tried, survived = _play_cell(lab, lab_env, tmp_path, CRED_PLAY, {"cred": name, "secret": "s-" + name},
                                          [(CRED_LOOKUP, "GET", SLOW)], request_timeout=3)
        assert run.rc == 0 and survived == tried and len(_credential_writes(lab, name)) == 1, run.output[-4000:]
    else:
        tried = _catalog_cell(lab, lab_env, tmp_path, [(r"/cvad/manage/Jobs/", "GET", SLOW)], request_timeout=3)
    _tally(tried)


# the appliance backend's task polls (Get-AlTask, read-only: retried up to 3 times in a row) at the PSRP stand-in
APPLIANCE_BURST = (dict(action="status", status=429, retry_after=1), dict(action="status", status=503), dict(action="drop"))


def _appliance_cell(lab_env, tmp_path, burst, **windows_host):
    """An export with backend: appliance (vSphere) with `burst` on its task polls at the Windows host stand-in: the task
    completes, every fault met, one task started. Returns the faults tried."""
    from ips_lab.common.admin import LabAdmin
    ap = _load("integration_appliance_helpers_for_reliability", INTEGRATION / "test_appliance_jobs.py")
    host = LabAdmin.from_env(lab_env, "winhost")
    host.reset()
    host.set_config(task_seconds=3, appliance_certificate_trusted=False)
    try:
        for fault in burst:
            host.host_fault(cmdlet="Get-AlTask", **fault)
        tried = len(burst)
        args = ap.export_args(lab_env, tmp_path / "journal", ap.unique("appl-fault"))
        args["windows_host"] = ap.windows_host(lab_env, **windows_host)
        done, out = ap.ApplianceRun(lab_env, tmp_path)("ips_export", args)
        left = len(host.faults())
        assert done.get("changed") and done["job"]["state"] == "complete", out[-3000:]
        assert left == 0 and len(ap.calls(host, "Start-AlIpsExport")) == 1, (left, ap.calls(host, "Start-AlIpsExport"))
    finally:
        host.reset()
    return tried


def test_appliance_task_survives_a_fault_burst(lab_env, tmp_path):
    """The task polls answered 429 (Retry-After), 503 and dropped by the PSRP host: the export completes with one task."""
    _tally(_appliance_cell(lab_env, tmp_path, APPLIANCE_BURST))


def _appliance_interrupted(lab_env, tmp_path, interrupt):
    """An appliance export (vSphere) whose Windows host `interrupt(host)`s once the module polls the running task: the
    export completes with the one task started before. Returns the Start calls the host saw after the interruption."""
    import threading
    from ips_lab.common.admin import LabAdmin
    ap = _load("integration_appliance_helpers_for_reliability", INTEGRATION / "test_appliance_jobs.py")
    host = LabAdmin.from_env(lab_env, "winhost")
    host.reset()
    host.set_config(task_seconds=8, appliance_certificate_trusted=False)
    args = ap.export_args(lab_env, tmp_path / "journal", ap.unique("appl-gone"))
    done = {}

    def play():
        done["run"] = ap.ApplianceRun(lab_env, tmp_path)("ips_export", args)

    player = threading.Thread(target=play)
    player.start()
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and not ap.calls(host, "Get-AlTask"):
            time.sleep(0.2)
        assert len(ap.calls(host, "Start-AlIpsExport")) == 1, "the task was not started once before the interruption"
        host.clear_calls()
        interrupt(host)
        player.join(300)
        result, out = done["run"]
        assert result.get("changed") and result["job"]["state"] == "complete", out[-3000:]
        return len(ap.calls(host, "Start-AlIpsExport"))
    finally:
        host.reset()


def test_appliance_task_survives_winrm_forgetting_its_shell(lab_env, tmp_path):
    """WinRM on the Windows host forgets the module's runspace pool while the task runs (its service restarted, or the
    shell's idle timeout passed): the poll's invalid-selectors fault opens a new pool, the appliance is connected again,
    the export completes and no task is started again. (Before, "does not exist" of the shell was taken for the task:
    "task 1000 disappeared from the appliance".)"""
    started = _appliance_interrupted(lab_env, tmp_path, lambda host: host.host_fault("drop_shells"))
    assert started == 0, "the task was started again"
    _tally(1)


@pytest.mark.long  # about 40 s of waiting: the read deadline is 3 x (1 + 10) s at the smallest operation_timeout
def test_appliance_task_survives_an_answer_slower_than_the_read_timeout(lab_env, tmp_path):
    """A task poll answered after 12 s, past the PSRP read timeout (windows_host.operation_timeout 1 + 10 s): pypsrp
    gives up and asks again, the late answer's output is lost on the way, and the call ends at its deadline (3 x the
    read timeout) and is made again; the export completes with one task. (Before, pypsrp polled the lost pipeline for
    ever and the task hung.)"""
    _tally(_appliance_cell(lab_env, tmp_path, (dict(action="slow", delay=12),), operation_timeout=1))


# -- long variants -------------------------------------------------------------------------------


@pytest.mark.long
@pytest.mark.parametrize("target", ["azure", "aws", "gcp"])
@pytest.mark.parametrize("fault", BURST, ids=["429-retry-after", "503", "drop"])
def test_upload_one_fault_at_a_time(lab, lab_env, tmp_path, target, fault):
    plane, path, method = UPLOAD_FAULT_PATHS[target]
    admin = PlaneAdmin.from_env(lab_env, plane)
    admin.clear_faults()
    image, ref = _image(lab_env)
    name = "fault1-%s" % uuid.uuid4().hex[:6]
    tried = _faults(admin, path, method, [dict(fault, times=fault["times"] * 3)])
    result = _up.run_module({"source": {"location": str(image)}, "target": target, target: _opts(lab_env, target, name),
                             "journal_dir": str(tmp_path / "journal"), "retries": 12}, tmp_path)
    assert result["changed"] and _survived(admin, tried) == tried
    _check(lab_env, target, name, ref)


@pytest.mark.long
@pytest.mark.parametrize("target", ["azure", "aws"])
def test_upload_survives_its_plane_restarted(lab, lab_env, tmp_path, target):
    """The plane is stopped and started again while the upload sends (rate-limited, so it is mid-way): the upload retries
    through the outage, or fails clearly and the re-run resumes; the target is byte-exact either way."""
    plane = UPLOAD_FAULT_PATHS[target][0]
    image, ref = _image(lab_env, size=48 * MIB)
    name = "restart-%s" % uuid.uuid4().hex[:6]
    args = {"source": {"location": str(image)}, "target": target, target: _opts(lab_env, target, name),
            "journal_dir": str(tmp_path / "journal"), "retries": 12, "rate_limit": 8, "progress_file": str(tmp_path / "p.json")}
    proc = _upload_in_background(args, tmp_path, percent=20)
    _restart(plane)
    out, _err = proc.communicate(timeout=300)
    if proc.returncode != 0:
        result = _up.run_module(dict(args, rate_limit=None), tmp_path)
        assert result["resumed"]
    _check(lab_env, target, name, ref)


def _it_run_dir():
    return integration_conftest().lab_run_dir()


def _restart(part):
    """Stop one part of the lab (SIGTERM, waited for) and start it again with `ips-lab up` (same port, same state)."""
    stop = _load("lab_restart_helpers_for_reliability", INTEGRATION.parent / "lab_clouds" / "test_restart.py").stop
    run_dir = _it_run_dir()
    stop(run_dir, part)
    subprocess.run([str(Path(sys.executable).with_name("ips-lab")), "up"], env=dict(__import__("os").environ, IPS_LAB_RUN_DIR=str(run_dir)),
                   check=True, capture_output=True, timeout=300)


def _upload_in_background(args, tmp_path, percent=None):
    """ips_upload in its own process (as Ansible runs it); with `percent`, returned once its progress file (args'
    progress_file) shows that much done, or after 120 s."""
    args_file = tmp_path / "args.json"
    args_file.write_text(json.dumps({"ANSIBLE_MODULE_ARGS": args}))
    cmd = [sys.executable, "-m", "ansible_collections.citrix_community.ips.plugins.modules.ips_upload", str(args_file)]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 120
    while percent is not None and time.monotonic() < deadline:
        try:
            if json.loads(Path(args["progress_file"]).read_text()).get("percent", 0) >= percent:
                break
        except (OSError, ValueError):
            pass
        time.sleep(0.1)
    return proc


def _gcp_front_opts(lab_env, name):
    """GCP options with Cloud Storage through the GCE plane's strict front (IPS_LAB_GCE_URL), whose faults and request
    record see every part upload (the bare emulator has neither)."""
    return dict(_opts(lab_env, "gcp", name), storage_endpoint=lab_env["IPS_LAB_GCE_URL"])


def _many_parts_image(lab_env, parts=12):
    """A dynamic VHDX with `parts` 8 MiB GCP parts of random data, each with a zero run inside its allocated blocks."""
    folder = Path(lab_env["IPS_LAB_SMB_EXPORT_DIR"]) / ("fault-gcp-" + uuid.uuid4().hex[:6])
    folder.mkdir(parents=True)
    raw, path, ref = folder / "src.raw", folder / "many.vhdx", folder / "many.ref.raw"
    rnd = __import__("random").Random(18)
    with open(raw, "wb") as f:
        f.truncate(parts * 8 * MIB + MIB)
        for k in range(parts):
            f.seek(k * 8 * MIB)
            f.write(rnd.randbytes(6 * MIB) + bytes(MIB) + rnd.randbytes(MIB))  # 1 MiB of zeros inside the blocks
    subprocess.run(["qemu-img", "convert", "-S", "0", "-f", "raw", "-O", "vhdx", "-o", "subformat=dynamic,block_size=8M", str(raw), str(path)],
                   check=True)
    subprocess.run(["qemu-img", "convert", "-f", "vhdx", "-O", "raw", str(path), str(ref)], check=True)
    return path, ref


def _part_uploads(admin):
    """Media uploads answered 2xx at the Cloud Storage front (parts, head and tail)."""
    return [r for r in admin.requests() if r["method"] == "POST" and r["path"].startswith("/upload/storage/v1/")
            and r["status"] and 200 <= r["status"] < 300]


@pytest.mark.long
def test_gcp_upload_killed_and_run_again_resends_only_what_was_in_flight(lab, lab_env, tmp_path):
    """SIGKILL an upload to Google Cloud while parts are being sent (each part upload answered after 1 s at the front),
    run it again: it resumes from the journal (the sparse entries of the parts done come from there), re-sends at most
    the parts in flight, and the archive is byte-exact."""
    from ansible_collections.citrix_community.ips.plugins.module_utils._upload.journal import read_journal
    admin = PlaneAdmin.from_env(lab_env, "gce")
    admin.clear_faults()
    admin.clear_requests()
    image, ref = _many_parts_image(lab_env)
    name = "kill-gcp-%s" % uuid.uuid4().hex[:6]
    journal_dir = tmp_path / "journal"
    concurrency = 2
    args = {"source": {"location": str(image)}, "target": "gcp", "gcp": _gcp_front_opts(lab_env, name), "journal_dir": str(journal_dir),
            "concurrency": concurrency}
    admin.add_fault(r"^/upload/storage/v1/", method="POST", action="slow", delay=1.0, times=1000)
    proc = _upload_in_background(args, tmp_path)
    deadline = time.monotonic() + 120
    journal = None
    while time.monotonic() < deadline and journal is None:
        for found in journal_dir.glob("*.journal"):
            if len(read_journal(str(found))[2]) >= 4:
                journal = found
        time.sleep(0.05)
    proc.kill()
    proc.communicate()
    admin.clear_faults()
    assert journal is not None, "the upload did not get going"
    _header, started, done = read_journal(str(journal))
    in_flight = started - set(done)
    assert len(in_flight) <= concurrency, in_flight
    first_run = len(_part_uploads(admin))
    result = _up.run_module(args, tmp_path)
    assert result["changed"] and result["resumed"]
    _check(lab_env, "gcp", name, ref)
    data = Path(ref).read_bytes()
    parts = sum(1 for k in range(0, len(data), 8 * MIB) if data[k:k + 8 * MIB].strip(b"\0"))  # an all-zero part is not sent
    uploads = len(_part_uploads(admin))
    # every part once, the head and the tail once, plus what was stored but not acknowledged at the kill
    resent = uploads - (parts + 2)
    assert 0 <= resent <= len(in_flight), (uploads, first_run, sorted(in_flight))
    assert result["units_skipped"] == len(done)
    TALLY.update(cells=TALLY["cells"] + 1, faults_tried=TALLY["faults_tried"] + 1, faults_survived=TALLY["faults_survived"] + 1,
                 bytes_resent=TALLY["bytes_resent"] + resent * 8 * MIB)


@pytest.mark.long
def test_gcp_upload_survives_its_plane_restarted(lab, lab_env, tmp_path):
    """The GCE plane (Compute Engine and the Cloud Storage front) is stopped and started again while parts are sent
    (each answered after 1 s; the slow rule persists across the restart): the upload retries through the outage, or
    fails clearly and the re-run resumes; the archive is byte-exact either way."""
    admin = PlaneAdmin.from_env(lab_env, "gce")
    admin.clear_faults()
    image, ref = _many_parts_image(lab_env, parts=8)
    name = "restart-gcp-%s" % uuid.uuid4().hex[:6]
    args = {"source": {"location": str(image)}, "target": "gcp", "gcp": _gcp_front_opts(lab_env, name), "journal_dir": str(tmp_path / "journal"),
            "retries": 12, "concurrency": 2, "progress_file": str(tmp_path / "p.json")}
    admin.add_fault(r"^/upload/storage/v1/", method="POST", action="slow", delay=1.0, times=8)
    proc = _upload_in_background(args, tmp_path, percent=20)
    _restart("gce")
    _out, _err = proc.communicate(timeout=300)
    if proc.returncode != 0:
        result = _up.run_module(args, tmp_path)
        assert result["resumed"]
    PlaneAdmin.from_env(lab_env, "gce").clear_faults()
    _check(lab_env, "gcp", name, ref)
    TALLY.update(cells=TALLY["cells"] + 1, faults_tried=TALLY["faults_tried"] + 1, faults_survived=TALLY["faults_survived"] + 1)


@pytest.mark.long
def test_upload_survives_samba_restarted_mid_upload(lab, lab_env, tmp_path):
    """The source is read over SMB from the lab's Samba, which is stopped and started again while the upload reads
    (rate-limited, so it is mid-way): the read fails clearly or is retried, and the re-run resumes from the journal;
    the Azure disk is byte-exact."""
    image, ref = _image(lab_env, size=48 * MIB)
    rel = str(image.relative_to(lab_env["IPS_LAB_SMB_EXPORT_DIR"]))
    name = "smb-restart-%s" % uuid.uuid4().hex[:6]
    args = {"source": _up.smb_source(lab_env, rel), "target": "azure", "azure": _opts(lab_env, "azure", name),
            "journal_dir": str(tmp_path / "journal"), "retries": 12, "rate_limit": 4, "progress_file": str(tmp_path / "p.json")}
    proc = _upload_in_background(args, tmp_path, percent=20)
    _restart("samba")
    out, _err = proc.communicate(timeout=300)
    first = json.loads(out)
    if first.get("failed"):
        assert "SMB" in first["msg"] or "smb" in first["msg"], first["msg"]  # a clear source error, not a traceback
        result = _up.run_module(dict(args, rate_limit=None), tmp_path)
        assert result["resumed"]
    _check(lab_env, "azure", name, ref)
    TALLY.update(cells=TALLY["cells"] + 1, faults_tried=TALLY["faults_tried"] + 1, faults_survived=TALLY["faults_survived"] + 1)


@pytest.mark.long
@pytest.mark.parametrize("target,verb", JOB_STAGES)
def test_job_stage_survives_the_citrix_stand_in_restarted_mid_job(lab, lab_env, run_target, test_secrets, tmp_path, target, verb):
    """The Citrix Cloud stand-in is stopped and started again while the stage's job runs and the module polls it: the
    job's state is persisted, the polls that meet the outage are retried, and the stage completes with one job."""
    import threading
    _jobs.seed_wallet(lab_env, test_secrets)
    t = _jobs.ips_t(lab_env, "attach", aws_snapshot="snap-0")
    if target == "ips_prepare":
        _jobs.seed_clouds(lab_env, tmp_path, t["run"], azure=["win11-%s"])
    lab.set_config(job_seconds=12)
    done = {}

    def play():
        done["run"] = run_target(target, dict(ips_t=t), env=_jobs.module_env(lab_env))

    player = threading.Thread(target=play)
    player.start()
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and not _jobs.job_posts(lab, verb):
        time.sleep(0.2)
    before = len(_jobs.job_posts(lab, verb))
    assert before == 1, "the job was not submitted once"
    time.sleep(2)
    _restart("cloud")  # the stand-in's record of requests starts empty again; its jobs are persisted
    player.join(300)
    run = done["run"]
    assert run.rc == 0, "\n".join(line for line in run.output.splitlines() if '"msg"' in line or "FAILED" in line)[-4000:]
    posts = before + len(_jobs.job_posts(lab, verb))
    assert posts == 1, "the job was submitted again after the restart"
    TALLY.update(cells=TALLY["cells"] + 1, faults_tried=TALLY["faults_tried"] + 1, faults_survived=TALLY["faults_survived"] + 1,
                 duplicate_jobs=TALLY["duplicate_jobs"] + posts - 1)


@pytest.mark.long
def test_appliance_task_survives_the_windows_host_restarted_mid_task(lab_env, tmp_path):
    """The Windows host stand-in is stopped and started again while the export task runs: its tasks are persisted and
    their work redone, the module opens a new pool and connects again, and the export completes with one task."""
    started = _appliance_interrupted(lab_env, tmp_path, lambda host: _restart("winhost"))
    assert started == 0, "the task was started again"
    _tally(1)


@pytest.mark.long
@pytest.mark.parametrize("stage", ["credential", "catalog"])
def test_citrix_stage_survives_the_citrix_stand_in_restarted(lab, lab_env, tmp_path, stage):
    """The Citrix Cloud stand-in (IPS and DaaS) is stopped and started again while the stage runs - the catalog's DaaS
    job is running and polled; the credential push waits on its look-up, held 4 s - and the stage completes once: one
    DaaS job with the catalog on the new disk, one credential write."""
    import threading
    from mcs_play import catalog, jobs, run_play
    from ips_lab.planes.seed import azure_uploaded_disk
    lab.clear_faults()
    lab.clear_requests()
    name = "fault-%s" % uuid.uuid4().hex[:8]
    if stage == "catalog":
        azure_uploaded_disk(lab_env, name)
        before = len([j for j in jobs(lab_env) if j["Type"] == CATALOG_JOB])
        lab.set_config(daas_job_seconds=12)
        play, extra = CATALOG_PLAY, {"disk": name, "request_timeout": 60}
        method, path = "POST", r"\$UpdateProvisioningScheme$"
    else:
        _faults(lab, CRED_LOOKUP, "GET", SLOW[:1])
        play, extra = CRED_PLAY, {"cred": name, "secret": "s-" + name, "request_timeout": 60}
        method, path = "GET", CRED_LOOKUP
    done = {}

    def started():
        return [r for r in lab.requests() if r["method"] == method and re.search(path, r["path"])]

    def play_it():
        done["run"] = run_play(lab_env, tmp_path, play, extra, env_extra=_jobs.module_env(lab_env))

    player = threading.Thread(target=play_it)
    player.start()
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and not started():
            time.sleep(0.1)
        assert started(), "the stage never reached the stand-in"
        _restart("cloud")  # its jobs, wallet and DaaS site are persisted; its record of requests starts empty
        player.join(300)
    finally:
        lab.set_config(daas_job_seconds=4)
    run = done["run"]
    if stage == "credential" and run.rc != 0:
        # the restart cut its write: a POST is never repeated blindly (the service may have taken it); the task says so,
        # and the re-run it asks for finds the credential or writes it
        assert "not retried automatically" in run.output and "Traceback" not in run.output, run.output[-3000:]
        run = run_play(lab_env, tmp_path, play, extra, env_extra=_jobs.module_env(lab_env))
    assert run.rc == 0, run.output[-4000:]
    if stage == "catalog":
        made = len([j for j in jobs(lab_env) if j["Type"] == CATALOG_JOB]) - before
        held = catalog(lab_env, "lab-mcs-catalog")["ProvisioningScheme"]["MasterImage"]["XDPath"]
        assert made == 1 and held.endswith("\\%s.manageddisk" % name), (made, held)
    else:
        from lab_api import LabApi
        held = LabApi(lab_env).call("GET", "credentials/%s" % name)
        assert (held["id"], held["type"]) == (name, "UsernamePassword"), held
    _tally(1)
