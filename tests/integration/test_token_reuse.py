"""One Citrix Cloud token for a whole migration, renewed once when it dies: when the lab's clock jumps past the
token's lifetime (70 minutes) in the middle of the run, the service refuses the cached token, one task asks for a new
one and caches it: two in all. The MCS -> MCS workflow as the molecule scenario drives it (the credentials role, then
migrate), against a fresh lab. That a whole migration (stopped and re-run) asks for one token is asserted by
test_migrate_report.py on its runs, so no extra migration runs for it.
"""

import json
import os
import subprocess
import sys
import time

from test_check_mode import BIN, MOLECULE, playbook, scenario_vars


def token_requests(lab):
    return [r for r in lab.requests() if r["method"] == "POST" and r["path"].endswith("/tokens/clients")]


def api_calls(lab):
    return [r for r in lab.requests() if not r["path"].endswith("/tokens/clients")]


def setup_run(lab_env, tmp_path, cache=True):
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
    (tmp_path / "scenario.json").write_text(json.dumps(host_vars))
    return env


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
