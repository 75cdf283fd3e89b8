"""moto_server: AWS EC2, EBS direct and S3 on loopback, from the venv's moto[server]."""

from ips_lab.runstate import HOST, http_answers
from ips_lab.launchers import Launch, StandIn, python


class Moto(StandIn):
    name = "moto"
    port_key = "MOTO"
    ready_timeout = 60.0

    def prepare(self, port, deps, previous):
        argv = [python(), "-m", "moto.server", "-H", HOST, "-p", str(port)]
        return Launch(argv, self.python_env(), {"IPS_LAB_MOTO_URL": "http://%s:%d" % (HOST, port)})

    def answers(self, record):
        return http_answers("http://%s:%d/moto-api/" % (HOST, record["port"]))
