"""Running the job modules with backend: appliance against the lab's Windows-host stand-in (docs/lab.md).

`ApplianceRun` writes a one-task playbook (the module's arguments as JSON, which is YAML), runs it with
ansible-playbook, and returns the registered result and the whole output; the lab's Windows host is read
through its admin API (`host.calls()`: every cmdlet with the .NET type each parameter arrived as,
`host.tasks()`). The journal and the state folder are the test's own.
"""

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

BIN = Path(sys.executable).parent
REPO = Path(__file__).resolve().parents[2]


def arm_id(env, name):
    return "/subscriptions/%s/resourceGroups/%s/providers/Microsoft.Compute/disks/%s" % (
        env["IPS_LAB_AZURE_SUBSCRIPTION_ID"], env["IPS_LAB_AZURE_RESOURCE_GROUP"], name)


def appliance(env, journal, connector=None, **over):
    out = {"address": env["IPS_LAB_APPLIANCE_ADDRESS"], "username": env["IPS_LAB_APPLIANCE_USER"],
           "password": env["IPS_LAB_APPLIANCE_PASSWORD"], "ignore_certificate_errors": True, "journal_dir": str(journal)}
    if connector:
        out["connector"] = env[connector]
    out.update(over)
    return out


def windows_host(env, **over):
    out = {"host": env["IPS_LAB_WINHOST_HOST"], "port": int(env["IPS_LAB_WINHOST_PORT"]), "username": env["IPS_LAB_WINHOST_USER"],
           "password": env["IPS_LAB_WINHOST_PASSWORD"], "auth": "ntlm", "ca_path": env["IPS_LAB_WINHOST_CA_PATH"]}
    out.update(over)
    return out


class ApplianceRun(object):
    def __init__(self, env, tmp_path):
        self.env = env
        self.tmp = tmp_path
        self.count = 0

    def _files(self, steps, verbose):
        """steps: [(module, args, check_mode)] -> one playbook running them in order, each result kept in a file."""
        self.count += 1
        tasks, results = [], []
        for index, (module, args, check_mode) in enumerate(steps):
            result = self.tmp / ("result-%d-%d.json" % (self.count, index))
            results.append(result)
            tasks.append(
                "    - name: Step %d\n      citrix_community.ips.%s: %s\n      register: r\n      ignore_errors: true\n%s"
                "    - name: Keep the result of step %d\n      ansible.builtin.copy:\n        content: \"{{ r | to_json }}\"\n"
                "        dest: %s\n      check_mode: false\n"
                % (index, module, json.dumps(args), "      check_mode: true\n" if check_mode else "", index, result))
        play = self.tmp / ("play-%d.yml" % self.count)
        play.write_text("- name: Appliance backend\n  hosts: localhost\n  gather_facts: false\n  tasks:\n" + "".join(tasks))
        env = dict(os.environ)
        env.update(self.env)
        env.update(ANSIBLE_PYTHON_INTERPRETER=sys.executable, ANSIBLE_LOCALHOST_WARNING="False", ANSIBLE_NOCOLOR="1",
                   ANSIBLE_INVENTORY_UNPARSED_WARNING="False", ANSIBLE_RETRY_FILES_ENABLED="False",
                   XDG_STATE_HOME=str(self.tmp / "state"), XDG_CACHE_HOME=str(self.tmp / "cache"))
        cmd = [str(BIN / "ansible-playbook"), "-i", "localhost,", "-c", "local"] + (["-vvvv"] if verbose else []) + [str(play)]
        return cmd, env, results

    def many(self, steps, verbose=False):
        """Several module tasks in one playbook (one ansible start-up): -> ([registered results], output)."""
        cmd, env, results = self._files(steps, verbose)
        proc = subprocess.run(cmd, env=env, cwd=str(self.tmp), capture_output=True, text=True, timeout=300, check=False)
        output = proc.stdout + proc.stderr
        assert all(r.exists() for r in results), output[-4000:]
        return [json.loads(r.read_text()) for r in results], output

    def __call__(self, module, args, check_mode=False, verbose=False):
        """-> (registered result dict, output text)."""
        results, output = self.many([(module, args, check_mode)], verbose)
        return results[0], output

    def start(self, module, args):
        """The playbook in the background, in a session of its own (to be killed whole)."""
        cmd, env, _results = self._files([(module, args, False)], False)
        return subprocess.Popen(cmd, env=env, cwd=str(self.tmp), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                start_new_session=True)


def calls(host, cmdlet):
    return [c for c in host.calls() if c["cmdlet"] == cmdlet]


def kill_when(proc, condition, timeout=120):
    """SIGKILL the playbook's whole process group once condition() holds."""
    deadline = time.monotonic() + timeout
    try:
        while not condition():
            assert proc.poll() is None, "the playbook ended before it was killed"
            assert time.monotonic() < deadline, "the awaited moment never came"
            time.sleep(0.1)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(10)


def run_while(call, when, then, timeout=300):
    """call() in a thread; once when() holds, then() (move the lab clock so the task ends while call() waits for it).
    Returns what call() returned."""
    outcome = {}

    def target():
        try:
            outcome["value"] = call()
        except BaseException as exc:  # pylint: disable=broad-except
            outcome["error"] = exc

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    deadline = time.monotonic() + timeout
    while thread.is_alive() and time.monotonic() < deadline:
        if when():
            then()
            break
        time.sleep(0.1)
    thread.join(timeout)
    if "error" in outcome:
        raise outcome["error"]
    assert "value" in outcome, "the call did not end within %d s" % timeout
    return outcome["value"]
