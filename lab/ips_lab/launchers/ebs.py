"""The EBS direct front (lab/ips_lab/planes/ebs_front.py): the `ebs` API with the real block,
checksum, idempotency and completion rules, forwarding to moto. Plain HTTP on loopback. Its
/_lab/ admin token (IPS_LAB_EBS_ADMIN_TOKEN) is random per lab and kept across restarts, and so are the lab's
AWS keys, the only ones the lab's AWS fronts (this one and the IAM front) take: IPS_LAB_AWS_ACCESS_KEY_ID /
_SECRET_ACCESS_KEY, and a temporary key IPS_LAB_AWS_SESSION_ACCESS_KEY_ID / _SECRET_ACCESS_KEY / _TOKEN."""

import json
import secrets

from ips_lab.runstate import HOST, http_answers, write_private
from ips_lab.launchers import Launch, StandIn, python


def _key_id(prefix):
    """An access key id shaped as AWS's (AKIA long-term, ASIA temporary, then 16 of A-Z2-7)."""
    return prefix + "".join(secrets.choice("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567") for _i in range(16))


class Ebs(StandIn):
    name = "ebs"
    port_key = "EBS"
    ready_timeout = 30.0
    depends = ("moto",)

    def prepare(self, port, deps, previous):
        state = self.folder
        moto = (deps.get("moto") or {}).get("values", {})
        config_path = state / "config.json"
        old = {}
        if previous:
            try:
                old = json.loads(config_path.read_text())
            except (OSError, ValueError):
                old = {}
        key_id = old.get("aws_key_id") or _key_id("AKIA")
        key_secret = old.get("aws_secret") or secrets.token_urlsafe(30)
        # a temporary key as STS issues one: valid only with its session token
        session = old.get("aws_session") or {"id": _key_id("ASIA"), "secret": secrets.token_urlsafe(30), "token": secrets.token_urlsafe(60)}
        config = {"host": HOST, "port": port, "moto_url": moto.get("IPS_LAB_MOTO_URL"), "region": "us-east-1",
                  "admin_token": old.get("admin_token") or secrets.token_urlsafe(30),
                  "aws_key_id": key_id, "aws_secret": key_secret, "aws_session": session,
                  "aws_keys": {key_id: {"secret": key_secret, "token": None}, session["id"]: {"secret": session["secret"], "token": session["token"]}}}
        write_private(config_path, json.dumps(config, indent=2) + "\n")
        argv = [python(), "-m", "ips_lab.planes.ebs_front", "--state-dir", str(state), "--config", str(config_path)]
        return Launch(argv, self.python_env(), {"IPS_LAB_EBS_URL": "http://%s:%d" % (HOST, port),
                                                "IPS_LAB_EBS_ADMIN_TOKEN": config["admin_token"],
                                                "IPS_LAB_AWS_ACCESS_KEY_ID": key_id, "IPS_LAB_AWS_SECRET_ACCESS_KEY": key_secret,
                                                "IPS_LAB_AWS_SESSION_ACCESS_KEY_ID": session["id"],
                                                "IPS_LAB_AWS_SESSION_SECRET_ACCESS_KEY": session["secret"],
                                                "IPS_LAB_AWS_SESSION_TOKEN": session["token"]})

    def answers(self, record):
        return http_answers("http://%s:%d/" % (HOST, record["port"]))
