"""Fixtures of the bad-input suite: run a module in-process on given options, with every network connection refused.

`run_module(name, args)` runs plugins/modules/<name>.py the way Ansible does (its options as the module's
input, its JSON answer on stdout) inside this process, so hundreds of cases take seconds. The network guard
replaces socket connects with a recorder that refuses them: no stand-in can show "no connection was tried"
as directly, so this is the one place the suite patches a Python function. A case that tried to connect
fails (the suite's rule: what the input alone shows to be wrong is refused before any connection).
A per-case deadline (SIGALRM) turns a hang into a failure instead of a stuck suite.
"""

import io
import json
import runpy
import signal
import socket
import sys

import pytest
from badinput_helpers import STATS, Answer

from ansible.module_utils import basic

DEADLINE = 20  # seconds: a case still running then has hung


@pytest.fixture()
def no_network(monkeypatch):
    """Record and refuse every name look-up and outgoing connection (see the module docstring for why this is patched)."""
    tried = []

    def refuse(self, address, *args, **kwargs):
        tried.append(address)
        raise ConnectionRefusedError("bad-input suite: no connection may be made for this input (%r)" % (address,))

    def refuse_ex(self, address, *args, **kwargs):
        tried.append(address)
        return 111

    def no_lookup(host, *args, **kwargs):
        tried.append(host)
        raise socket.gaierror(socket.EAI_NONAME, "bad-input suite: no name may be looked up for this input (%r)" % (host,))

    monkeypatch.setattr(socket, "getaddrinfo", no_lookup)
    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse_ex)
    return tried


@pytest.fixture(autouse=True)
def deadline():
    def hung(signum, frame):
        STATS["hangs"] += 1
        raise TimeoutError("the case did not end within %d s: a hang" % DEADLINE)

    old = signal.signal(signal.SIGALRM, hung)
    signal.alarm(DEADLINE)
    yield
    signal.alarm(0)
    signal.signal(signal.SIGALRM, old)


@pytest.fixture()
def run_module(no_network, monkeypatch):
    def run(name, args, check_mode=False):
        payload = dict(args)
        payload.update(_ansible_check_mode=check_mode, _ansible_tmpdir=None, _ansible_remote_tmp="~/.ansible/tmp",
                       _ansible_keep_remote_files=False)
        monkeypatch.setattr(basic, "_ANSIBLE_ARGS", json.dumps({"ANSIBLE_MODULE_ARGS": payload}).encode("utf-8"))
        monkeypatch.setattr(basic, "_ANSIBLE_PROFILE", "legacy")
        out, err = io.StringIO(), io.StringIO()
        monkeypatch.setattr(sys, "stdout", out)
        monkeypatch.setattr(sys, "stderr", err)
        try:
            runpy.run_module("ansible_collections.citrix_community.ips.plugins.modules.%s" % name, run_name="__main__", alter_sys=False)
        except SystemExit:
            pass
        finally:
            monkeypatch.setattr(sys, "stdout", sys.__stdout__)
            monkeypatch.setattr(sys, "stderr", sys.__stderr__)
        text = out.getvalue()
        answer = Answer(json.loads(text.strip().splitlines()[-1]) if text.strip() else {})
        answer.raw = text
        # warnings: in the answer, or (once another test has set up ansible's controller-side display) on stderr
        answer.warnings_text = json.dumps(answer.get("warnings")) + err.getvalue()
        answer.connections = list(no_network)
        return answer
    return run


def pytest_terminal_summary(terminalreporter):
    if STATS["cases"]:
        terminalreporter.write_line("bad input: %(cases)d inputs tried, %(clear)d clear errors, %(valid)d generated inputs still valid "
                                    "(accepted, map checked), %(tracebacks)d tracebacks, %(hangs)d hangs, %(accepted)d wrongly accepted, "
                                    "%(connections)d connected first" % STATS)
