"""The lab's own CA and a server certificate (SAN 127.0.0.1 and localhost), for every HTTPS
stand-in (the Citrix Cloud stand-in, the Azure plane), and the server SSL context.

Generated once per state dir and reused, so clients keep trusting CITRIX_CLOUD_CA_PATH (and
IPS_LAB_AZURE_CA_PATH) across restarts of the lab.
"""

import datetime
import ipaddress
import os
import ssl

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

TLS_DIR = "tls"
CA_FILE, CERT_FILE, KEY_FILE, CA_KEY_FILE = "ca.pem", "server.pem", "server.key", "ca.key"
VALID_DAYS = 825


def _name(common_name):
    return x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "ips_lab"), x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _write_key(path, key):
    data = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as out:
        out.write(data)


def _write_cert(path, cert):
    with open(path, "wb") as out:
        out.write(cert.public_bytes(serialization.Encoding.PEM))


def _make_ca(now):
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (x509.CertificateBuilder()
            .subject_name(_name("ips_lab local CA")).issuer_name(_name("ips_lab local CA"))
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5)).not_valid_after(now + datetime.timedelta(days=VALID_DAYS))
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True, content_commitment=False,
                                         key_encipherment=False, data_encipherment=False, key_agreement=False,
                                         encipher_only=False, decipher_only=False), critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
            .sign(key, hashes.SHA256()))
    return key, cert


def _make_server(ca_key, ca_cert, now):
    key = ec.generate_private_key(ec.SECP256R1())
    san = x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1")), x509.DNSName("localhost")])
    cert = (x509.CertificateBuilder()
            .subject_name(_name("localhost")).issuer_name(ca_cert.subject)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5)).not_valid_after(now + datetime.timedelta(days=VALID_DAYS))
            .add_extension(san, critical=False)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
            .sign(ca_key, hashes.SHA256()))
    return key, cert


def ensure_ca(state_dir):
    """Paths (ca_pem, cert_pem, key_pem) under <state_dir>/tls/, generated on first use."""
    tls_dir = os.path.join(str(state_dir), TLS_DIR)
    paths = [os.path.join(tls_dir, name) for name in (CA_FILE, CERT_FILE, KEY_FILE)]
    if all(os.path.exists(p) for p in paths):
        return tuple(paths)
    os.makedirs(tls_dir, exist_ok=True)
    now = datetime.datetime.now(datetime.timezone.utc)
    ca_key, ca_cert = _make_ca(now)
    key, cert = _make_server(ca_key, ca_cert, now)
    _write_key(os.path.join(tls_dir, CA_KEY_FILE), ca_key)
    _write_key(paths[2], key)
    _write_cert(paths[1], cert)
    _write_cert(paths[0], ca_cert)  # last: its presence means the set is complete
    return tuple(paths)


def host_certificate(state_dir, hostname):
    """Paths (cert_pem, key_pem) of a server certificate for one DNS name, signed by the CA of
    <state_dir>/tls/ (ensure_ca), made on first use: what the real-host proxy presents for that host."""
    ensure_ca(state_dir)
    tls_dir = os.path.join(str(state_dir), TLS_DIR)
    hosts_dir = os.path.join(tls_dir, "hosts")
    cert_path, key_path = os.path.join(hosts_dir, hostname + ".pem"), os.path.join(hosts_dir, hostname + ".key")
    if os.path.exists(cert_path) and os.path.exists(key_path):
        return cert_path, key_path
    os.makedirs(hosts_dir, exist_ok=True)
    with open(os.path.join(tls_dir, CA_KEY_FILE), "rb") as src:
        ca_key = serialization.load_pem_private_key(src.read(), password=None)
    with open(os.path.join(tls_dir, CA_FILE), "rb") as src:
        ca_cert = x509.load_pem_x509_certificate(src.read())
    now = datetime.datetime.now(datetime.timezone.utc)
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (x509.CertificateBuilder()
            .subject_name(_name(hostname)).issuer_name(ca_cert.subject)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5)).not_valid_after(now + datetime.timedelta(days=VALID_DAYS))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName(hostname)]), critical=False)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
            .sign(ca_key, hashes.SHA256()))
    # key first, certificate last: the certificate's presence means the pair is complete
    _write_key(key_path, key)
    _write_cert(cert_path + ".tmp", cert)
    os.replace(cert_path + ".tmp", cert_path)
    return cert_path, key_path


def server_context(cert, key):
    """The server side SSL context of a stand-in: TLS 1.2 or later with this certificate and key."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.load_cert_chain(cert, key)
    return context


def ensure_client_certificate(path, common_name="ips-lab-app"):
    """A self-signed RSA client certificate for an app registration: one PEM file holding the private key and the
    certificate (what azure-identity's CertificateCredential reads), generated on first use; returns its path."""
    if not os.path.exists(str(path)):
        from cryptography.hazmat.primitives.asymmetric import rsa

        now = datetime.datetime.now(datetime.timezone.utc)
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        cert = (x509.CertificateBuilder()
                .subject_name(_name(common_name)).issuer_name(_name(common_name))
                .public_key(key.public_key()).serial_number(x509.random_serial_number())
                .not_valid_before(now - datetime.timedelta(minutes=5)).not_valid_after(now + datetime.timedelta(days=VALID_DAYS))
                .sign(key, hashes.SHA256()))
        data = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
        data += cert.public_bytes(serialization.Encoding.PEM)
        fd = os.open(str(path), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as out:
            out.write(data)
    return str(path)
