"""The job_wait role (the ips_job_wait action plugin) against the lab: a job of any length and any number of
progress steps is followed in ONE task, with a line per change and no `FAILED - RETRYING` line.

The lab reports progress in 0.1 % steps here, so the prepare passes through 1,000 progress values; the role
looks often enough to see several hundred of them - more than the ~230 nested includes at which
ansible-core stopped the first design (a task file that included itself once per change).
"""

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

BIN = Path(sys.executable).parent

PLAY = """
- name: Follow a prepare with the job_wait role
  hosts: localhost
  gather_facts: false
  tasks:
    - name: A vCenter credential in the wallet
      citrix_community.ips.ips_credential:
        id: jw-vcenter
        type: username_password
        username: administrator@vsphere.local
        password: not-a-real-one
    - name: Submit a prepare without waiting
      citrix_community.ips.ips_prepare:
        platform: vsphere
        vsphere: {host: vcenter.lab.local, credential_id: jw-vcenter, cluster: Cluster1, datastore: ds1, network: VM Network}
        target_disk: "[ds1] uploads/{{ jw_name }}.vmdk"
        resource_location_id: "{{ lookup('env', 'IPS_LAB_RESOURCE_LOCATION_ID') }}"
        wait: false
      register: jw_submitted
    - name: Follow it
      ansible.builtin.include_role:
        name: citrix_community.ips.job_wait
      vars:
        job_wait_id: "{{ jw_submitted.job.id }}"
        job_wait_label: "prepare {{ jw_name }}"
        job_wait_timeout: "{{ jw_timeout }}"
        job_wait_timeout_option: jw_timeout
        job_wait_delay: "{{ jw_delay }}"
    - name: The role's result
      ansible.builtin.debug:
        msg: "JW-RESULT {{ job_wait_result.job | to_json }}"
"""


def run_play(lab_env, tmp_path, **extra):
    play = tmp_path / "job_wait.yml"
    play.write_text(PLAY)
    env = dict(lab_env, ANSIBLE_NOCOLOR="1", ANSIBLE_PYTHON_INTERPRETER=sys.executable, ANSIBLE_LOCALHOST_WARNING="False",
               ANSIBLE_INVENTORY_UNPARSED_WARNING="False", PATH="%s:/usr/bin:/bin" % BIN,
               XDG_CACHE_HOME=str(tmp_path / "xdg-cache"))  # the token cache of this test only, never the user's
    cmd = [str(BIN / "ansible-playbook"), "-i", "localhost,", "-c", "local", "-e", json.dumps(extra), str(play)]
    return subprocess.run(cmd, env=env, cwd=str(tmp_path), capture_output=True, text=True, timeout=300, check=False)


def test_a_thousand_progress_steps_are_followed_in_one_task(lab, lab_env, tmp_path):
    lab.set_config(job_seconds=30, progress_step=0.1)
    proc = run_play(lab_env, tmp_path, jw_name="jw-steps", jw_timeout=120, jw_delay=0.02)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out[-4000:]
    assert "FAILED - RETRYING" not in out and "recursion" not in out
    assert out.count("TASK [citrix_community.ips.job_wait : Follow the job to its end]") == 1
    progress = [float(p) for p in re.findall(r"prepare jw-steps: running, ([0-9.]+)% \(", out)]
    assert len(progress) > 250, "only %d progress lines" % len(progress)
    print("%d progress lines" % len(progress))
    assert any(not p.is_integer() for p in progress)  # tenths, as the lab reports them
    assert progress == sorted(progress)
    assert re.search(r"prepare jw-steps: complete, 100% \(\w+\), job ", out)
    final = json.loads(re.search(r"JW-RESULT (\{.*\})", out).group(1).replace('\\"', '"'))
    assert final["state"] == "complete" and final["progress"] == 100
    # one token for the whole wait: the looks reuse it
    tokens = [r for r in lab.requests() if r["method"] == "POST" and "token" in r["path"].lower()]
    assert len(tokens) <= 4, tokens  # credential, prepare and the wait: one each at most, never one per look


def test_a_wait_that_runs_out_names_the_role_variable_and_leaves_the_job_running(lab, lab_env, tmp_path):
    lab.set_config(job_seconds=600)
    proc = run_play(lab_env, tmp_path, jw_name="jw-timeout", jw_timeout=3, jw_delay=1)
    out = proc.stdout + proc.stderr
    assert proc.returncode != 0
    assert "FAILED - RETRYING" not in out
    message = re.search(r"prepare jw-timeout: job (\S+) is still inProgress at \d+% \(stage \w+\) after waiting 3 s \(jw_timeout\)\. "
                        r"It was not cancelled and keeps running; run the stage again to attach to it, or raise jw_timeout\.", out)
    assert message, out[-3000:]
    job = [j for j in lab.requests() if j["method"] == "GET" and message.group(1) in j["path"]]
    assert job, "the wait looked at the job"
    assert lab.raw_job(message.group(1))["status"] == "inProgress"


def test_a_killed_playbook_leaves_no_wait_behind(lab, lab_env, tmp_path):
    """ansible-core runs each task in a worker of its own session: SIGKILL the playbook and the worker lives on.
    The wait notices its playbook is gone at its next look and stops, instead of polling for hours."""
    lab.set_config(job_seconds=600)
    play = tmp_path / "job_wait.yml"
    play.write_text(PLAY)
    env = dict(lab_env, ANSIBLE_NOCOLOR="1", ANSIBLE_PYTHON_INTERPRETER=sys.executable, ANSIBLE_LOCALHOST_WARNING="False",
               ANSIBLE_INVENTORY_UNPARSED_WARNING="False", PATH="%s:/usr/bin:/bin" % BIN)
    extra = dict(jw_name="jw-killed", jw_timeout=600, jw_delay=0.2)
    proc = subprocess.Popen([str(BIN / "ansible-playbook"), "-i", "localhost,", "-c", "local", "-e", json.dumps(extra), str(play)],
                            env=env, cwd=str(tmp_path), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)

    def looks():
        return len([r for r in lab.requests() if r["method"] == "GET" and "/jobs/" in r["path"]])

    try:
        deadline = time.monotonic() + 120
        while looks() < 3:
            assert proc.poll() is None and time.monotonic() < deadline, "the wait never started looking"
            time.sleep(0.1)
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(10)
    time.sleep(1.5)  # the orphaned worker's next look (poll_delay 0.2 s) is where it stops
    settled = looks()
    time.sleep(2)
    assert looks() == settled, "the killed playbook's wait went on looking at the job"
