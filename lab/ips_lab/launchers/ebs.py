"""The EBS direct front (lab/ips_lab/planes/ebs_front.py): the `ebs` API with the real block,
checksum, idempotency and completion rules, forwarding to moto. Plain HTTP on loopback. Its
/_lab/ admin token (IPS_LAB_EBS_ADMIN_TOKEN) is random per lab and kept across restarts."""

import json
import secrets

from ips_lab.runstate import HOST, http_answers, write_private
from ips_lab.launchers import Launch, StandIn, python


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
        key_id = old.get("aws_key_id") or "AKIA" + "".join(secrets.choice("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567") for _i in range(16))
        key_secret = old.get("aws_secret") or secrets.token_urlsafe(30)
        config = {"host": HOST, "port": port, "moto_url": moto.get("IPS_LAB_MOTO_URL"), "region": "us-east-1",
                  "admin_token": old.get("admin_token") or secrets.token_urlsafe(30),
                  "aws_key_id": key_id, "aws_secret": key_secret, "aws_keys": {key_id: key_secret}}
        write_private(config_path, json.dumps(config, indent=2) + "\n")
        argv = [python(), "-m", "ips_lab.planes.ebs_front", "--state-dir", str(state), "--config", str(config_path)]
        return Launch(argv, self.python_env(), {"IPS_LAB_EBS_URL": "http://%s:%d" % (HOST, port),
                                                "IPS_LAB_EBS_ADMIN_TOKEN": config["admin_token"],
                                                "IPS_LAB_AWS_ACCESS_KEY_ID": key_id, "IPS_LAB_AWS_SECRET_ACCESS_KEY": key_secret})

    def answers(self, record):
        return http_answers("http://%s:%d/" % (HOST, record["port"]))
