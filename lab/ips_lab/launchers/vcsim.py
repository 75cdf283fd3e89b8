"""vcsim: the vSphere API simulator, built into lab/bin/vcsim from lab/vcsim/main.go by `make setup`.

The password reaches vcsim through its environment, never its command line (visible in ps).
Its datastore folders go under the run dir (TMPDIR), and are removed when it stops on SIGTERM.
"""

import secrets

from ips_lab.runstate import HOST, LAB_DIR, http_answers
from ips_lab.launchers import Launch, MissingProgram, StandIn

USER = "ipslab"


class Vcsim(StandIn):
    name = "vcsim"
    port_key = "VCSIM"
    ready_timeout = 30.0

    def prepare(self, port, deps, previous):
        program = LAB_DIR / "bin" / "vcsim"
        if not program.exists():
            raise MissingProgram("lab/bin/vcsim is not built; run `make setup`")
        tmp = self.folder / "tmp"
        tmp.mkdir(parents=True, exist_ok=True)
        password = (previous or {}).get("values", {}).get("IPS_LAB_VCSIM_PASSWORD") or secrets.token_urlsafe(18)
        argv = [str(program), "-l", "%s:%d" % (HOST, port), "-u", USER]
        env = {"IPS_LAB_VCSIM_PASSWORD": password, "TMPDIR": str(tmp)}
        values = {
            "IPS_LAB_VCSIM_HOST": HOST,
            "IPS_LAB_VCSIM_PORT": str(port),
            "IPS_LAB_VCSIM_USER": USER,
            "IPS_LAB_VCSIM_PASSWORD": password,
        }
        return Launch(argv, env, values)

    def answers(self, record):
        # vcsim serves a self-signed certificate; readiness only asks whether it answers.
        return http_answers("https://%s:%d/about" % (HOST, record["port"]), verify=False)
