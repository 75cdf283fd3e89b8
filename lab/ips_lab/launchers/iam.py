"""The IAM front (lab/ips_lab/planes/iam_front.py): IAM and STS over moto, with the policy simulator moto
lacks (SimulatePrincipalPolicy). Plain HTTP on loopback. Its /_lab/ admin token (IPS_LAB_IAM_ADMIN_TOKEN)
is random per lab and kept across restarts."""

import json
import secrets

from ips_lab.runstate import HOST, http_answers, write_private
from ips_lab.launchers import Launch, StandIn, python

ACCOUNT = "123456789012"  # moto's account
USER = "ips-lab-migrator"


class Iam(StandIn):
    name = "iam"
    port_key = "IAM"
    ready_timeout = 30.0
    depends = ("moto", "ebs")  # the lab's AWS keys are made by the EBS launcher

    def prepare(self, port, deps, previous):
        state = self.folder
        moto = (deps.get("moto") or {}).get("values", {})
        ebs = (deps.get("ebs") or {}).get("values", {})
        aws_keys = {ebs["IPS_LAB_AWS_ACCESS_KEY_ID"]: {"secret": ebs["IPS_LAB_AWS_SECRET_ACCESS_KEY"], "token": None},
                    ebs["IPS_LAB_AWS_SESSION_ACCESS_KEY_ID"]: {"secret": ebs["IPS_LAB_AWS_SESSION_SECRET_ACCESS_KEY"],
                                                               "token": ebs["IPS_LAB_AWS_SESSION_TOKEN"]}}
        config_path = state / "config.json"
        old = {}
        if previous:
            try:
                old = json.loads(config_path.read_text())
            except (OSError, ValueError):
                old = {}
        config = {"host": HOST, "port": port, "moto_url": moto.get("IPS_LAB_MOTO_URL"), "user": USER, "aws_keys": aws_keys,
                  "admin_token": old.get("admin_token") or secrets.token_urlsafe(30)}
        write_private(config_path, json.dumps(config, indent=2) + "\n")
        argv = [python(), "-m", "ips_lab.planes.iam_front", "--state-dir", str(state), "--config", str(config_path)]
        return Launch(argv, self.python_env(), {"IPS_LAB_IAM_URL": "http://%s:%d" % (HOST, port),
                                                "IPS_LAB_AWS_PRINCIPAL_ARN": "arn:aws:iam::%s:user/%s" % (ACCOUNT, USER),
                                                "IPS_LAB_IAM_ADMIN_TOKEN": config["admin_token"]})

    def answers(self, record):
        return http_answers("http://%s:%d/" % (HOST, record["port"]))
