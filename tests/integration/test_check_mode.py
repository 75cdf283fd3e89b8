"""`ansible-playbook citrix_community.ips.migrate --check` on a fresh lab, for the four workflows at once: one host
each in one play (`ips_hosts=all`, as AWX runs a playbook over an inventory of images), each host with its molecule
scenario's host_vars over extensions/molecule/utils/vars/lab.yml. It must run to the end, predict every stage of
every host and create nothing: the lab's state is read before and after and compared:

- Citrix Cloud stand-in: no job POST without dryRun, no credential written, no job listed, the wallet unchanged;
- the cloud planes: only reads reached the Azure plane, the EBS front and the GCE plane; the disks, EBS snapshots and
  volumes, GCE images and disks and GCS objects are the same;
- the SMB shares (export share and PVS store): the same files with the same sizes and times;
- the controller: no upload journal or state file written.

The inputs a user provides before a run (the PVS vDisk on the share, the GCS bucket) are placed first, by the
molecule helper, and are part of "before".
"""

import os
import re
import subprocess
import sys
from contextlib import contextmanager
from pathlib import Path

import pytest
import yaml
from scenario_play import BIN, MOLECULE, REPO, scenario_vars

WORKFLOWS = ["mcs_to_mcs", "pvs_to_mcs", "pvs_to_pvs", "mcs_to_pvs"]
WRITES = ("POST", "PUT", "PATCH", "DELETE")


def tree(root):
    """Every file under `root`: relative path -> (size, mtime_ns)."""
    out = {}
    for folder, _dirs, files in os.walk(root):
        for name in files:
            path = Path(folder) / name
            st = path.stat()
            out[str(path.relative_to(root))] = (st.st_size, st.st_mtime_ns)
    return out


@contextmanager
def lab_check_in(env):
    """The molecule helper (the clients and inputs the scenarios' own prepare and verify use), with the lab's env
    (it reads its endpoints from os.environ, as in molecule) in place while it is used."""
    sys.path.insert(0, str(MOLECULE / "utils" / "files"))
    saved = dict(os.environ)
    os.environ.update(env)
    try:
        import lab_check

        yield lab_check
    finally:
        os.environ.clear()
        os.environ.update(saved)


def cloud_state(env):
    """What the cloud stand-ins hold: Azure disks, EBS snapshots and volumes, GCE images and disks, GCS objects."""
    import boto3
    from google.auth.credentials import AnonymousCredentials
    from google.cloud import storage

    with lab_check_in(env) as lab_check:
        disks = sorted(d.name for d in lab_check.azure_compute().disks.list())
        gce_images = sorted(i["name"] for i in lab_check.gce_get("global/images").get("items", []))
        gce_disks = sorted(d["name"] for d in lab_check.gce_get("zones/us-east4-a/disks").get("items", []))
    ec2 = boto3.client("ec2", endpoint_url=env["IPS_LAB_MOTO_URL"], region_name="us-east-1",
                       aws_access_key_id="testing", aws_secret_access_key="testing")
    snapshots = sorted(s["SnapshotId"] for s in ec2.describe_snapshots(OwnerIds=["self"])["Snapshots"])
    volumes = sorted(v["VolumeId"] for v in ec2.describe_volumes()["Volumes"])
    gcs = storage.Client(project="p", credentials=AnonymousCredentials(), client_options={"api_endpoint": env["IPS_LAB_GCS_URL"]})
    objects = sorted("%s/%s" % (b.name, o.name) for b in gcs.list_buckets() for o in gcs.list_blobs(b.name))
    return dict(azure_disks=disks, ebs_snapshots=snapshots, ebs_volumes=volumes, gce_images=gce_images, gce_disks=gce_disks,
                gcs_objects=objects)


def lab_state(env, lab_api):
    return dict(
        clouds=cloud_state(env),
        export_share=tree(env["IPS_LAB_SMB_EXPORT_DIR"]),
        pvs_store=tree(env["IPS_LAB_SMB_PVS_DIR"]),
        jobs=lab_api.call("GET", "jobs"),
        wallet=lab_api.call("GET", "credentials"),
    )


@pytest.fixture()
def planes(lab_env):
    from ips_lab.common.admin import LabAdmin

    admins = dict((part, LabAdmin.from_env(lab_env, part)) for part in ("azure", "ebs", "gce"))
    for admin in admins.values():
        admin.reset()
    return admins


def inventory(tmp_path, ephemeral, env):
    """One host per workflow, each with its molecule scenario's host vars, over the scenarios' shared lab vars: the
    four migrations of a change window in one play (playbooks/migrate.yml with ips_hosts=all, what AWX runs for an
    inventory of images). Returns {workflow: (stages, job stages, more targets)}."""
    table = yaml.safe_load((REPO / "roles" / "migrate" / "vars" / "main.yml").read_text())["migrate_workflow_table"]
    hosts, plan = {}, {}
    with lab_check_in(env) as lab_check:  # the run id, the job length, the bucket, a PVS vDisk on the share
        for workflow in WORKFLOWS:
            # the inputs a user places before a run: the PVS vDisk on the share, the GCS bucket
            own = ephemeral / workflow
            own.mkdir()
            run_id = lab_check.prepare(str(own), workflow)["run_id"]
            host = dict(scenario_vars(workflow), ansible_connection="local", ansible_python_interpreter=sys.executable,
                        mol_scenario=workflow, mol_run=run_id)
            # the lab's endpoints, given: a scenario that reaches the lab by the clouds' own names does so through the
            # proxy its molecule.yml sets in the environment, which this run does not take
            host.update(migrate_source="{{ mol_sources[mol_source] }}", migrate_target="{{ mol_targets[mol_target] }}", mol_real_hosts=False)
            # PVS -> MCS (AWS) also goes to Azure: one fan-out upload (predicted per target, nothing written) and a
            # prepare on each
            more = ["azure"] if workflow == "pvs_to_mcs" else []
            if more:
                host.update(migrate_more_targets="{{ %s | map('extract', mol_targets) | list }}" % more)
            hosts[workflow] = host
            stages = table[workflow]["stages"]
            plan[workflow] = (stages, [s for s in stages if s not in ("upload", "catalog")], more, host["mol_target"])
    # the scenarios' shared vars (molecule gives them as the play's vars_files) as the group's: each host's own win
    shared = yaml.safe_load((MOLECULE / "utils" / "vars" / "lab.yml").read_text())
    (tmp_path / "inventory.yml").write_text(yaml.safe_dump({"all": {"vars": shared, "hosts": hosts}}))
    return plan


def playbook(env, tmp_path, name, check, hosts="all"):
    cmd = [str(BIN / "ansible-playbook")] + (["--check", "--diff"] if check else []) + [
        "-i", str(tmp_path / "inventory.yml"), "-e", "ips_hosts=%s" % hosts, "citrix_community.ips." + name]
    run = subprocess.run(cmd, env=env, cwd=str(tmp_path), capture_output=True, text=True, timeout=600, check=False)
    output = run.stdout + run.stderr
    assert run.returncode == 0, output[-6000:]
    return output


def blocks(output, host=None):
    """(host, result) of each task result the output shows (`ok: [host] => {...}`, `changed: ...`), of one host or all."""
    for name, block in re.findall(r"^(?:ok|changed): \[([^\]]+)\] => (\{.*?^\})", output, re.S | re.M):
        if host in (None, name):
            yield name, block


def reports_of(output):
    """{host: {stage: state}} from the hosts' task results."""
    out = {}
    for host, block in blocks(output):
        out.setdefault(host, {}).update(re.findall(r'"(export|upload|prepare|publish|catalog)\s+(would_run|would_resume|skipped|not_run)\s', block))
    return out


def lines_of(output, host):
    return "\n".join(block for _name, block in blocks(output, host))


def assert_nothing_created(lab, planes, before, after, ephemeral):
    posts = [r for r in lab.requests() if r["method"] in WRITES and not r["path"].endswith("/tokens/clients")]
    submitted = [r for r in posts if "dryRun=true" not in (r.get("query") or "")]
    assert not submitted, "check mode wrote to the Citrix Cloud stand-in: %s" % submitted
    for part, admin in planes.items():
        # the preflight's testIamPermissions is a POST that reads
        writes = [r for r in admin.requests() if r["method"] in WRITES and not re.search(r"/oauth2/|/token|:testIamPermissions",
                                                                                         r["path"])]
        assert not writes, "check mode wrote to the %s plane: %s" % (part, writes)
    assert after == before
    left = [str(p.relative_to(ephemeral)) for p in ephemeral.rglob("*") if p.is_file() and p.name != "run_id"]
    assert not left, "check mode wrote files on the controller: %s" % left
    return posts


def test_check_mode_predicts_every_stage_and_creates_nothing(lab, lab_env, planes, tmp_path):
    """The four workflows at once, one host each, on a fresh lab: the wallet is empty, so the stages name credentials
    the credentials role would create (the service's dryRun cannot validate those yet, and says nothing is validated);
    then, with the wallet pushed for real, --check again: every job stage is validated by the service's dryRun, and
    still nothing is created."""
    from lab_api import LabApi

    ephemeral = tmp_path / "ephemeral"
    ephemeral.mkdir()
    env = dict(os.environ)
    env.update(lab_env)
    env.update(MOLECULE_EPHEMERAL_DIRECTORY=str(ephemeral), ANSIBLE_LOCALHOST_WARNING="False", ANSIBLE_NOCOLOR="1",
               ANSIBLE_RETRY_FILES_ENABLED="False", PATH="%s:%s" % (BIN, env.get("PATH", "")), XDG_CACHE_HOME=str(tmp_path / "cache"))
    plan = inventory(tmp_path, ephemeral, env)
    api = LabApi(lab_env)

    for admin in planes.values():
        admin.clear_requests()
    lab.clear_requests()
    before = lab_state(lab_env, api)
    output = playbook(env, tmp_path, "migrate", check=True)
    reports = reports_of(output)
    for workflow, (stages, job_stages, more, target) in plan.items():
        report = reports.get(workflow, {})
        assert sorted(report) == sorted(stages), (workflow, report, output[-3000:])
        assert all(report[s] == "would_run" for s in stages if s != "catalog"), (workflow, report)
        for platform in (more + [target] if more else []):
            for stage in ("upload", "prepare"):
                assert re.search(r'"%s\s+would_run\s+%s\b' % (stage, platform), lines_of(output, workflow)), \
                    "no %s line for %s in %s: %s" % (stage, platform, workflow, output[-3000:])
    expected = sum(len(job_stages) + len(more) for _stages, job_stages, more, _target in plan.values())
    assert output.count("not validated yet: it names credentials the credentials role would create") >= expected, output[-3000:]
    assert "outputDiskName" in output and "outputImageFilename" in output, "the diff shows no request body"
    posts = assert_nothing_created(lab, planes, before, lab_state(lab_env, api), ephemeral)
    assert not posts, "a request naming a credential the wallet lacks was sent: %s" % posts

    # the wallet, for real: one customer's wallet, the same for every image, pushed once
    playbook(env, tmp_path, "credentials", check=False, hosts=WORKFLOWS[0])
    for admin in planes.values():
        admin.clear_requests()
    lab.clear_requests()
    before = lab_state(lab_env, api)
    output = playbook(env, tmp_path, "migrate", check=True)
    reports = reports_of(output)
    for workflow, (stages, _job_stages, _more, _target) in plan.items():
        assert all(reports.get(workflow, {}).get(s) == "would_run" for s in stages if s != "catalog"), (workflow, output[-3000:])
    assert output.count("validated by the service (dryRun)") >= sum(len(p[1]) for p in plan.values()), output[-3000:]
    posts = assert_nothing_created(lab, planes, before, lab_state(lab_env, api), ephemeral)
    validated = [r["path"] for r in posts if "dryRun=true" in (r.get("query") or "")]
    # one dryRun per job stage of each workflow (a publish is an export job), and one more prepare per more target
    assert len(validated) == expected, validated
