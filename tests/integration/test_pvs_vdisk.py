"""ips_pvs_vdisk against the lab's Windows-host stand-in: the PVS snap-in cmdlets over real PSRP (HTTPS + NTLM),
a modelled PVS farm whose store is the lab's Samba share. What reached the farm is read back through the
host's admin API (/_lab/pvs, the recorded calls); the merged base is checked byte for byte."""

import hashlib
import json
import os
import shutil
import subprocess
import time
from pathlib import Path

import pytest

from ips_lab.common.admin import LabAdmin

from appliance_play import ApplianceRun, calls, windows_host

MERGED_SHA256_KEY = "expected_merged_sha256"


@pytest.fixture()
def host(lab_env):
    admin = LabAdmin.from_env(lab_env, "winhost")
    admin.reset()
    admin.set_config(task_seconds=1)
    yield admin
    admin.reset()


class PvsRun(ApplianceRun):
    """ApplianceRun with every step's result kept by one copy task at the end (one copy instead of one per step)."""

    def _files(self, steps, verbose):
        cmd, env, _results = super()._files(steps, verbose)
        play, result = Path(cmd[-1]), self.tmp / ("results-%d.json" % self.count)
        tasks = "".join("    - name: Step %d\n      citrix_community.ips.%s: %s\n      register: r%d\n      ignore_errors: true\n%s"
                        % (i, module, json.dumps(args), i, "      check_mode: true\n" if check else "")
                        for i, (module, args, check) in enumerate(steps))
        keep = ("    - name: Keep the results\n      ansible.builtin.copy:\n        content: \"{{ [%s] | to_json }}\"\n"
                "        dest: %s\n      check_mode: false\n" % (", ".join("r%d" % i for i in range(len(steps))), result))
        play.write_text("- name: PVS\n  hosts: localhost\n  gather_facts: false\n  tasks:\n" + tasks + keep)
        return cmd, env, [result]

    def many(self, steps, verbose=False):
        results, output = super().many(steps, verbose)
        return results[0], output


@pytest.fixture()
def run(lab_env, tmp_path):
    return PvsRun(lab_env, tmp_path)


def unique(prefix):
    return "%s-%d-%d" % (prefix, os.getpid(), time.monotonic_ns() % 10 ** 9)


def farm(host):
    return host.pvs()


def pvs(env, **over):
    out = {"server": env["IPS_LAB_PVS_SERVER"], "site": env["IPS_LAB_PVS_SITE"], "store": env["IPS_LAB_PVS_STORE"]}
    out.update(over)
    return out


def args(env, name, **over):
    out = dict(windows_host=windows_host(env), pvs=pvs(env), name=name)
    out.update(over)
    return out


def published(env, name, tmp_path):
    """A VHDX where Image Portability's publish puts it: the PVS store share."""
    raw = tmp_path / "pub.raw"
    raw.write_bytes(b"\x42" * (1024 * 1024))
    subprocess.run(["qemu-img", "convert", "-f", "raw", "-O", "vhdx", str(raw), os.path.join(env["IPS_LAB_SMB_PVS_DIR"], name + ".vhdx")],
                   check=True, capture_output=True)
    return name


def locator(host, name):
    found = [loc for loc in farm(host)["locators"].values() if loc["Name"] == name]
    return found[0] if found else None


def assigned(host, device):
    state = farm(host)
    names = dict((i, loc["Name"]) for i, loc in state["locators"].items())
    return [names[i] for i in state["devices"][device]["locators"]]


def test_check_mode_registers_nothing_then_register_then_rerun_unchanged(lab_env, host, run, tmp_path):
    env, name = lab_env, published(lab_env, unique("pvs-reg"), tmp_path)
    wanted = args(env, name, write_cache_type="ram_overflow", write_cache_size=2048, license_mode="kms",
                  collection=env["IPS_LAB_PVS_COLLECTION"])
    results, output = run.many([("ips_pvs_vdisk", wanted, True), ("ips_pvs_vdisk", wanted, False), ("ips_pvs_vdisk", wanted, False)])
    predicted, made, again = results
    assert predicted["changed"] is True and predicted["registered"] is True, output[-3000:]
    assert predicted["properties"] == {"write_cache_type": "ram_overflow", "write_cache_size": 2048, "license_mode": "kms"}
    assert made["changed"] is True and made["registered"] is True, made
    assert made["store_path"] == "\\\\%s\\%s" % (env["IPS_LAB_SMB_HOST"], env["IPS_LAB_SMB_PVS_SHARE"])
    assert made["properties"] == {"write_cache_type": "ram_overflow", "write_cache_size": 2048, "license_mode": "kms"}
    assert made["assigned"] == ["collection %s" % env["IPS_LAB_PVS_COLLECTION"]]
    assert again["changed"] is False and again["registered"] is False and again["assigned"] == [], again
    loc = locator(host, name)
    assert (loc["WriteCacheType"], loc["WriteCacheSize"], loc["LicenseMode"], loc["VHDX"]) == (9, 2048, 2, True)
    assert assigned(host, "lab-target-1") == [name] and assigned(host, "lab-target-2") == [name]
    # check mode ran first and made nothing: one New-PvsDiskLocator, from the real run
    assert len(calls(host, "New-PvsDiskLocator")) == 1
    assert env["IPS_LAB_WINHOST_PASSWORD"] not in output


def test_a_property_change_updates_and_reassignment_replaces_only_when_asked(lab_env, host, run, tmp_path):
    env = lab_env
    old = published(env, unique("pvs-old"), tmp_path)
    new = published(env, unique("pvs-new"), tmp_path)
    coll2 = env["IPS_LAB_PVS_COLLECTION_2"]
    results, output = run.many([
        ("ips_pvs_vdisk", args(env, old, collection=coll2, write_cache_type="ram", write_cache_size=512), False),
        ("ips_pvs_vdisk", args(env, old, collection=coll2, write_cache_type="ram", write_cache_size=1024), False),
        ("ips_pvs_vdisk", args(env, new, collection=coll2), False),
        ("ips_pvs_vdisk", args(env, new, collection=coll2, replace_assignment=True), True),
        ("ips_pvs_vdisk", args(env, new, collection=coll2, replace_assignment=True), False),
        ("ips_pvs_vdisk", args(env, new, collection=coll2, replace_assignment=True), False),
        ("ips_pvs_vdisk", args(env, new, devices=["lab-target-1"]), False),
    ])
    first, resized, added, predicted, replaced, again, device = results
    assert first["changed"] and resized["changed"] and resized["registered"] is False, output[-3000:]
    assert locator(host, old)["WriteCacheSize"] == 1024
    assert added["changed"] is True and added["assigned"] == ["collection %s" % coll2]
    assert predicted["changed"] is True and predicted["assigned"] == ["collection %s" % coll2]
    assert replaced["changed"] is True and again["changed"] is False
    assert device["changed"] is True and device["assigned"] == ["device lab-target-1"]
    assert assigned(host, "lab-target-3") == [new]  # the old vDisk left only when replace_assignment asked for it
    assert old in [loc["Name"] for loc in farm(host)["locators"].values()]


def test_a_missing_file_an_unknown_store_a_versioned_file_and_a_failed_merge_are_named_clearly(lab_env, host, run, tmp_path):
    env = lab_env
    versioned = published(env, unique("pvs-ver"), tmp_path)
    shutil.copy(os.path.join(env["IPS_LAB_SMB_PVS_DIR"], "lab-versioned.1.avhdx"), os.path.join(env["IPS_LAB_SMB_PVS_DIR"], versioned + ".1.avhdx"))
    host.host_fault("fail_merge", message="The merge failed: disk in use.")
    results, output = run.many([
        ("ips_pvs_vdisk", args(env, "no-such-disk"), False),
        ("ips_pvs_vdisk", args(env, "no-such-disk", pvs=pvs(env, store="no-store")), False),
        ("ips_pvs_vdisk", args(env, "no-such-disk", collection="no-collection"), False),
        ("ips_pvs_vdisk", args(env, versioned), False),
        ("ips_pvs_vdisk", args(env, env["IPS_LAB_PVS_VERSIONED_DISK"], merge_versions=True, wait_sleep=1), False),
    ])
    missing, store, coll, refused, merge_failed = results
    share = "\\\\%s\\%s" % (env["IPS_LAB_SMB_HOST"], env["IPS_LAB_SMB_PVS_SHARE"])
    assert missing["failed"] and "%s\\no-such-disk.vhdx" % share in missing["msg"] and "name" in missing["msg"], output[-3000:]
    assert store["failed"] and "no-store" in store["msg"] and "pvs.store" in store["msg"]
    assert coll["failed"] and "no-collection" in coll["msg"] and "collection" in coll["msg"]
    assert refused["failed"] and "Merge-PvsDisk -NewBase" in refused["msg"] and "Merge-VHD" in refused["msg"]
    assert "qemu-img" not in refused["msg"]
    assert merge_failed["failed"] and "did not complete" in merge_failed["msg"] and "run the task again" in merge_failed["msg"]
    assert all("Traceback" not in r["msg"] for r in results)
    assert calls(host, "New-PvsDiskLocator") == []


def test_versions_merged_on_request_to_the_known_new_base(lab_env, host, run, tmp_path):
    """Check mode merges nothing; the merge runs in the lab for real (Access 4 until its work is done) and the module
    waits for it with the shared waiter; a re-run finds the new base and merges nothing."""
    env = lab_env
    host.set_config(task_seconds=0)  # the merge ends when its real work (SMB read, merge, SMB write) ends
    merge = args(env, env["IPS_LAB_PVS_VERSIONED_DISK"], merge_versions=True, wait_sleep=1)
    results, output = run.many([("ips_pvs_vdisk", merge, True), ("ips_pvs_vdisk", merge, False), ("ips_pvs_vdisk", merge, False)])
    predicted, merged, again = results
    assert predicted["changed"] is True and predicted["new_base_file"] is None, output[-3000:]
    assert merged["changed"] is True and merged["new_base_file"] == "lab-versioned.3.vhdx", output[-3000:]
    assert [(v["version"], v["type"], v["access"]) for v in merged["versions"]][-1] == (3, 4, 0)
    raw = tmp_path / "merged.raw"
    subprocess.run(["qemu-img", "convert", "-f", "vhdx", "-O", "raw", os.path.join(env["IPS_LAB_SMB_PVS_DIR"], "lab-versioned.3.vhdx"),
                    str(raw)], check=True, capture_output=True)
    assert hashlib.sha256(raw.read_bytes()).hexdigest() == farm(host)[MERGED_SHA256_KEY]
    assert again["changed"] is False and again["new_base_file"] == "lab-versioned.3.vhdx"
    assert len(calls(host, "Merge-PvsDisk")) == 1  # check mode and the re-run merged nothing
