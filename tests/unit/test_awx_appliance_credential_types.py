"""The AWX credential types of the appliance backend inject what the credentials role reads, and keep the passwords secret."""

from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[2]


def load(name):
    return yaml.safe_load((REPO / "extensions" / "awx" / name).read_text())


def role_env_lookups():
    defaults = (REPO / "roles" / "credentials" / "defaults" / "main.yml").read_text()
    return {line.split("'")[3] for line in defaults.splitlines() if "lookup('ansible.builtin.env', 'CITRIX_AL_" in line}


def test_every_injected_variable_is_read_by_the_credentials_role_and_only_passwords_are_secret():
    read = role_env_lookups()
    for name, secret in (("credential_type_appliance.yml", {"password"}), ("credential_type_windows_host.yml", {"password"})):
        ctype = load(name)
        fields = {f["id"]: f for f in ctype["inputs"]["fields"]}
        assert {k for k, f in fields.items() if f.get("secret")} == secret, name
        env = ctype["injectors"]["env"]
        assert set(env) <= read, (name, set(env) - read)
        assert {v.strip("{} ") for v in env.values()} <= set(fields), name
        assert set(ctype["inputs"]["required"]) <= set(fields)


def test_the_registration_playbook_registers_the_three_types():
    play = yaml.safe_load((REPO / "extensions" / "awx" / "register_credential_type.yml").read_text())
    loop = play[0]["tasks"][0]["loop"]
    assert loop[:3] == ["credential_type.yml", "credential_type_appliance.yml", "credential_type_windows_host.yml"]
    for name in loop:
        assert (REPO / "extensions" / "awx" / name).is_file()
