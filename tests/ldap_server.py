"""A real OpenLDAP slapd for the directory sign-in tests: throwaway config, database and CA.

TLS is required by the server itself (`security tls=128`): ldaps:// on one loopback port,
ldap:// with StartTLS on another, and a bind over a plain connection is refused by slapd.
The server runs in the foreground of a child process that the kernel terminates if the test
process dies (PR_SET_PDEATHSIG), and `stop()` ends it by its own process id.
"""

from __future__ import annotations

import base64
import ctypes
import datetime as dt
import hashlib
import ipaddress
import os
import signal
import socket
import subprocess
import time
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from tests.export_tools import free_port, require

SUFFIX = "dc=example,dc=org"
PEOPLE = f"ou=people,{SUFFIX}"
GROUPS = f"ou=groups,{SUFFIX}"
SCHEMAS = ("core", "cosine", "inetorgperson", "nis")

# uid -> (display name, password, groups). Passwords are test fixtures, not secrets.
USERS = {
    "alice": ("Alice Adeyemi", "alice-Pw-1", ["ward-doctors"]),
    "bob": ("Bob Brennan", "bob-Pw-2", ["Ward clerks"]),
    "carol": ("Carol Chu", "carol-Pw-3", []),
    "dave": ("Dave Dunn", "dave-Pw-4", ["picsafe-admins"]),
}


def user_dn(uid: str) -> str:
    return f"uid={uid},{PEOPLE}"


def _ssha(password: str) -> str:
    salt = os.urandom(8)
    digest = hashlib.sha1(password.encode() + salt).digest()
    return "{SSHA}" + base64.b64encode(digest + salt).decode()


def _name(cn: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])


def make_ca(cn: str):
    key = ec.generate_private_key(ec.SECP256R1())
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(_name(cn))
        .issuer_name(_name(cn))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                key_cert_sign=True,
                crl_sign=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )  # fmt: skip
        .sign(key, hashes.SHA256())
    )
    return key, cert


def make_server_cert(ca_key, ca_cert, names: list[str]):
    key = ec.generate_private_key(ec.SECP256R1())
    now = dt.datetime.now(dt.UTC)
    alt = []
    for n in names:
        try:
            alt.append(x509.IPAddress(ipaddress.ip_address(n)))
        except ValueError:
            alt.append(x509.DNSName(n))
    cert = (
        x509.CertificateBuilder()
        .subject_name(_name(names[0]))
        .issuer_name(ca_cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName(alt), critical=False)
        .add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), False)
        .sign(ca_key, hashes.SHA256())
    )
    return key, cert


def _pem_cert(cert) -> bytes:
    return cert.public_bytes(serialization.Encoding.PEM)


def _pem_key(key) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def _die_with_parent() -> None:
    # Linux: the kernel sends SIGTERM to slapd if the test process dies first.
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


class Slapd:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.binary = require("slapd")
        self.slapadd = require("slapadd")
        self.ldaps_port, self.ldap_port = free_port(), free_port()
        ca_key, ca_cert = make_ca("PicSafe test CA")
        key, cert = make_server_cert(ca_key, ca_cert, ["127.0.0.1", "localhost"])
        self.ca_file = root / "ca.pem"
        self.ca_file.write_bytes(_pem_cert(ca_cert))
        (root / "server.pem").write_bytes(_pem_cert(cert))
        (root / "server.key").write_bytes(_pem_key(key))
        (root / "server.key").chmod(0o600)
        other_key, other_ca = make_ca("Some other CA")
        self.other_ca_file = root / "other-ca.pem"
        self.other_ca_file.write_bytes(_pem_cert(other_ca))
        (root / "db").mkdir()
        self.conf = root / "slapd.conf"
        self.conf.write_text(self._config())
        (root / "data.ldif").write_text(self._data())
        subprocess.run(
            [self.slapadd, "-q", "-f", str(self.conf), "-l", str(root / "data.ldif")],
            check=True,
            capture_output=True,
        )
        self.log_path = root / "slapd.log"
        self._log = self.log_path.open("wb")
        self.proc = subprocess.Popen(
            [
                self.binary,
                "-d",
                "0",  # foreground, quiet
                "-f",
                str(self.conf),
                "-h",
                f"ldaps://127.0.0.1:{self.ldaps_port}/ ldap://127.0.0.1:{self.ldap_port}/",
            ],  # fmt: skip
            stdout=self._log,
            stderr=subprocess.STDOUT,
            preexec_fn=_die_with_parent,  # noqa: PLW1509 - test helper, single-threaded start
        )

    def _config(self) -> str:
        r = self.root
        schemas = "\n".join(f"include /etc/ldap/schema/{s}.schema" for s in SCHEMAS)
        return f"""{schemas}
pidfile {r}/slapd.pid
argsfile {r}/slapd.args
modulepath /usr/lib/ldap
moduleload back_mdb
TLSCACertificateFile {r}/ca.pem
TLSCertificateFile {r}/server.pem
TLSCertificateKeyFile {r}/server.key
TLSProtocolMin 3.3
security tls=128
database mdb
maxsize 16777216
suffix "{SUFFIX}"
rootdn "cn=admin,{SUFFIX}"
directory {r}/db
access to attrs=userPassword by anonymous auth by * none
access to * by users read by * none
"""

    def _data(self) -> str:
        out = [
            f"dn: {SUFFIX}\nobjectClass: dcObject\nobjectClass: organization\ndc: example\n"
            "o: Example Hospital\n",
            f"dn: {PEOPLE}\nobjectClass: organizationalUnit\nou: people\n",
            f"dn: {GROUPS}\nobjectClass: organizationalUnit\nou: groups\n",
        ]
        members: dict[str, list[str]] = {}
        for uid, (name, password, groups) in USERS.items():
            first, last = name.split()
            out.append(
                f"dn: {user_dn(uid)}\nobjectClass: inetOrgPerson\nuid: {uid}\ncn: {name}\n"
                f"sn: {last}\ngivenName: {first}\ndisplayName: {name}\n"
                f"userPassword: {_ssha(password)}\n"
            )
            for g in groups:
                members.setdefault(g, []).append(user_dn(uid))
        for group, dns in members.items():
            lines = "".join(f"member: {dn}\n" for dn in dns)
            out.append(f"dn: cn={group},{GROUPS}\nobjectClass: groupOfNames\ncn: {group}\n{lines}")
        return "\n".join(out)

    def wait_ready(self) -> None:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                pytest.fail(f"slapd exited: {self.log_path.read_text()[-2000:]}")
            try:
                socket.create_connection(("127.0.0.1", self.ldaps_port), timeout=1).close()
                return
            except OSError:
                time.sleep(0.1)
        pytest.fail("slapd did not listen within 30 s")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=15)
        self._log.close()
