"""The AWX credential type of the PVS console host injects what the migrate role's register stage reads, and keeps the
password secret."""

import re
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[2]


def test_every_injected_variable_is_read_by_the_register_stage_and_only_the_password_is_secret():
    ctype = yaml.safe_load((REPO / "extensions" / "awx" / "credential_type_pvs_host.yml").read_text())
    stage = (REPO / "roles" / "migrate" / "tasks" / "register.yml").read_text()
    read = set(re.findall(r"lookup\('ansible.builtin.env', '(CITRIX_PVS_[A-Z_]+)'\)", stage))
    fields = {f["id"]: f for f in ctype["inputs"]["fields"]}
    assert {k for k, f in fields.items() if f.get("secret")} == {"password"}
    env = ctype["injectors"]["env"]
    assert set(env) == read
    assert {v.strip("{} ") for v in env.values()} <= set(fields)
    assert set(ctype["inputs"]["required"]) <= set(fields)


def test_the_registration_playbook_registers_it():
    play = yaml.safe_load((REPO / "extensions" / "awx" / "register_credential_type.yml").read_text())
    assert "credential_type_pvs_host.yml" in play[0]["tasks"][0]["loop"]
