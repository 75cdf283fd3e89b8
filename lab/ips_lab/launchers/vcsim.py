"""vcsim: the vSphere API simulator, built into lab/bin/vcsim from lab/vcsim/main.go by `make setup`.

The password reaches vcsim through its environment, never its command line (visible in ps).
Its TLS certificate comes from a CA of its own (<run dir>/vcsim/tls/, not the Citrix Cloud stand-in's): the env file
names that CA (IPS_LAB_VCSIM_CA_PATH) and the certificate's SHA-1 fingerprint (IPS_LAB_VCSIM_SSL_FINGERPRINT), the two
ways a job (and ips_preflight) trusts a vCenter; any other CA does not trust it.
Its datastore folders go under the run dir (TMPDIR), and are removed when it stops on SIGTERM.
"""

import hashlib
import secrets

from ips_lab.runstate import HOST, LAB_DIR, http_answers
from ips_lab.launchers import Launch, MissingProgram, StandIn

USER = "ipslab"


def sha1_fingerprint(cert_path):
    """AA:BB:... of the PEM certificate's DER bytes, as vCenter shows it."""
    import ssl

    with open(cert_path) as src:
        der = ssl.PEM_cert_to_DER_cert(src.read())
    digest = hashlib.sha1(der).hexdigest().upper()
    return ":".join(digest[i:i + 2] for i in range(0, len(digest), 2))


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
        from ips_lab.common.tls import ensure_ca

        ca_path, cert_path, key_path = ensure_ca(str(self.folder))
        env = {"IPS_LAB_VCSIM_PASSWORD": password, "TMPDIR": str(tmp), "IPS_LAB_VCSIM_TLS_CERT": cert_path, "IPS_LAB_VCSIM_TLS_KEY": key_path}
        values = {
            "IPS_LAB_VCSIM_HOST": HOST,
            "IPS_LAB_VCSIM_PORT": str(port),
            "IPS_LAB_VCSIM_USER": USER,
            "IPS_LAB_VCSIM_PASSWORD": password,
            "IPS_LAB_VCSIM_CA_PATH": ca_path,
            "IPS_LAB_VCSIM_SSL_FINGERPRINT": sha1_fingerprint(cert_path),
        }
        return Launch(argv, env, values)

    def answers(self, record):
        # vcsim serves a self-signed certificate; readiness only asks whether it answers.
        return http_answers("https://%s:%d/about" % (HOST, record["port"]), verify=False)
