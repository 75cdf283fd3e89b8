"""One Citrix Cloud token for a whole migration: every module task and the controller's job follower take the token
the first task cached (plugins/module_utils/_auth.py TokenCache), so the lab's token endpoint is asked once. When the
lab's clock jumps past the token's lifetime (70 minutes) in the middle of the run, the service refuses the cached
token, one task asks for a new one and caches it: two in all. The MCS -> MCS workflow as the molecule scenario drives
it (the credentials role, then migrate), against a fresh lab.
"""

import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

from test_check_mode import BIN, MOLECULE, playbook, scenario_vars
from test_upload_modules import check_aws, check_azure


def token_requests(lab):
    return [r for r in lab.requests() if r["method"] == "POST" and r["path"].endswith("/tokens/clients")]


def api_calls(lab):
    return [r for r in lab.requests() if not r["path"].endswith("/tokens/clients")]


def setup_run(lab_env, tmp_path, cache=True, more_targets=()):
    ephemeral = tmp_path / "ephemeral"
    ephemeral.mkdir()
    env = dict(os.environ)
    env.update(lab_env)
    env.update(MOLECULE_EPHEMERAL_DIRECTORY=str(ephemeral), MOLECULE_SCENARIO_NAME="mcs_to_mcs", ANSIBLE_PYTHON_INTERPRETER=sys.executable,
               ANSIBLE_LOCALHOST_WARNING="False", ANSIBLE_INVENTORY_UNPARSED_WARNING="False", ANSIBLE_NOCOLOR="1",
               ANSIBLE_RETRY_FILES_ENABLED="False", PATH="%s:%s" % (BIN, env.get("PATH", "")), XDG_CACHE_HOME=str(tmp_path / "cache"))
    if not cache:
        env["CITRIX_CLOUD_TOKEN_CACHE"] = "false"
    prepared = subprocess.run([sys.executable, str(MOLECULE / "utils" / "files" / "lab_check.py"), "prepare", str(ephemeral), "mcs_to_mcs"],
                              env=env, capture_output=True, text=True, check=False)
    assert prepared.returncode == 0, prepared.stderr
    host_vars = scenario_vars("mcs_to_mcs")
    host_vars.update(migrate_source="{{ mol_sources[mol_source] }}", migrate_target="{{ mol_targets[mol_target] }}")
    if more_targets:
        # migrate_more_targets: one fan-out upload, then a prepare on each cloud
        host_vars.update(migrate_more_targets="{{ %s | map('extract', mol_targets) | list }}" % list(more_targets))
    (tmp_path / "scenario.json").write_text(json.dumps(host_vars))
    return env


def test_a_whole_migration_asks_for_one_token(lab, lab_env, tmp_path):
    """Also the migration to a second cloud (migrate_more_targets: AWS beside Azure) outside check mode: one fan-out
    upload, a prepare on each cloud, and what each cloud holds is the exported disk, byte for byte."""
    env = setup_run(lab_env, tmp_path, more_targets=["aws"])
    lab.clear_requests()
    playbook(env, tmp_path, "credentials", check=False)
    output = playbook(env, tmp_path, "migrate", check=False)
    block = output[output.rindex("Report every stage"):]
    export = re.search(r'"export\s+done\s+smb://[^/]+/[^/]+/(\S+\.vhdx) ', block)
    azure_up = re.search(r'"upload\s+done\s+azure /subscriptions/\S+/disks/(\S+) \(', block)
    aws_up = re.search(r'"upload\s+done\s+aws (snap-\w+) \(', block)
    assert export and azure_up and aws_up, block[-3000:]
    assert re.search(r'"prepare\s+done\s+azure /subscriptions/\S+/disks/\S+-mcs ', block), block[-3000:]
    assert re.search(r'"prepare\s+done\s+aws \S', block), block[-3000:]
    # byte-exact on both clouds: the Azure disk and the EBS snapshot hold the exported VHDX's virtual disk
    ref = tmp_path / "exported.raw"
    subprocess.run(["qemu-img", "convert", "-q", "-f", "vhdx", "-O", "raw", str(Path(lab_env["IPS_LAB_SMB_EXPORT_DIR"]) / export.group(1)),
                    str(ref)], check=True)
    check_azure(lab_env, azure_up.group(1), str(ref))
    assert check_aws(lab_env, azure_up.group(1), str(ref)) == aws_up.group(1)  # one name on both clouds: the image's
    calls = len(api_calls(lab))
    assert len(token_requests(lab)) == 1, "%d token requests for %d API calls" % (len(token_requests(lab)), calls)
    assert calls > 20  # the figure means something: many tasks shared the one token
    cache = tmp_path / "cache" / "citrix_community.ips" / "tokens"
    assert [oct(p.stat().st_mode & 0o777) for p in cache.iterdir()] == ["0o600"]
    assert oct(cache.stat().st_mode & 0o777) == "0o700"
    assert lab_env["CITRIX_CLOUD_CLIENT_SECRET"] not in output


def test_seventy_minutes_of_lab_clock_ask_for_a_second_token(lab, lab_env, tmp_path):
    lab.set_config(job_seconds=6)
    env = setup_run(lab_env, tmp_path)
    lab.clear_requests()
    playbook(env, tmp_path, "credentials", check=False)
    cmd = [str(BIN / "ansible-playbook"), "-i", "localhost,", "-c", "local", "-e", "@%s" % (MOLECULE / "utils" / "vars" / "lab.yml"),
           "-e", "@%s" % (tmp_path / "scenario.json"), "citrix_community.ips.migrate"]
    log = (tmp_path / "migrate.log").open("w")
    proc = subprocess.Popen(cmd, env=env, cwd=str(tmp_path), stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 300
        while not [r for r in lab.requests() if r["method"] == "POST" and r["path"].endswith("/$export")
                   and "dryRun" not in (r.get("query") or "")]:
            assert proc.poll() is None and time.monotonic() < deadline, "the export was never submitted"
            time.sleep(0.2)
        lab.advance_clock(70 * 60)  # the export job is running: the lab's token (an hour) is now dead
        assert proc.wait(600) == 0, (tmp_path / "migrate.log").read_text()[-4000:]
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)
        log.close()
    assert len(token_requests(lab)) == 2, "%d token requests" % len(token_requests(lab))
    refused = [r for r in lab.requests() if r["status"] == 401]
    assert len(refused) == 1, refused  # the one call that met the dead token, after which every task took the new one
