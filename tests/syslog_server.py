"""A real rsyslog (Debian rsyslog + rsyslog-gnutls) on a loopback port with its own config,
receiving RFC 5425 syslog over TLS (or plain TCP) and writing each message's raw text, one per
line, to a file the test reads. Certificates are made by the test (tests/ldap_server.py)."""

from __future__ import annotations

import socket
import subprocess
import time
from pathlib import Path

import pytest

from tests.export_tools import free_port, require
from tests.ldap_server import _pem_cert, _pem_key, make_ca, make_server_cert


class Rsyslog:
    def __init__(self, root: Path, *, tls: bool = True, udp: bool = False) -> None:
        self.binary = require("rsyslogd")
        self.root = root
        self.port = free_port()
        self.tls = tls and not udp
        self.udp = udp
        self.received = root / "received.log"
        work = root / "work"
        work.mkdir(exist_ok=True)
        self.ca_file = root / "ca.pem"
        if udp:
            driver = f'global(workDirectory="{work}")\nmodule(load="imudp")\n'
        elif tls:
            ca_key, ca_cert = make_ca("PicSafe test audit CA")
            key, cert = make_server_cert(ca_key, ca_cert, ["127.0.0.1", "localhost"])
            self.ca_file.write_bytes(_pem_cert(ca_cert))
            (root / "server.pem").write_bytes(_pem_cert(cert))
            (root / "server.key").write_bytes(_pem_key(key))
            (root / "server.key").chmod(0o600)
            driver = (
                f'global(workDirectory="{work}" defaultNetstreamDriver="gtls"\n'
                f'  defaultNetstreamDriverCAFile="{self.ca_file}"\n'
                f'  defaultNetstreamDriverCertFile="{root / "server.pem"}"\n'
                f'  defaultNetstreamDriverKeyFile="{root / "server.key"}")\n'
                'module(load="imtcp" streamDriver.name="gtls" streamDriver.mode="1"\n'
                '  streamDriver.authMode="anon")\n'
            )
        else:
            driver = f'global(workDirectory="{work}")\nmodule(load="imtcp")\n'
        (root / "rsyslog.conf").write_text(
            driver
            + f'input(type="{"imudp" if udp else "imtcp"}" address="127.0.0.1" '
            + f'port="{self.port}")\n'
            + 'template(name="raw" type="string" string="%rawmsg%\\n")\n'
            + f'*.* action(type="omfile" file="{self.received}" template="raw")\n'
        )
        self.proc: subprocess.Popen | None = None
        self.start()

    @property
    def url(self) -> str:
        scheme = "udp" if self.udp else ("tls" if self.tls else "tcp")
        return f"{scheme}://127.0.0.1:{self.port}"

    def start(self) -> None:
        self.log = (self.root / "rsyslogd.out").open("ab")
        self.proc = subprocess.Popen(
            [self.binary, "-n", "-f", str(self.root / "rsyslog.conf"),
             "-i", str(self.root / "rsyslogd.pid")],
            stdout=self.log, stderr=subprocess.STDOUT,
        )  # fmt: skip
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.udp and (self.root / "rsyslogd.pid").exists():
                time.sleep(0.5)  # nothing to connect to: the pid file says it is up
                return
            if self.proc.poll() is not None:
                pytest.fail(f"rsyslogd exited: {(self.root / 'rsyslogd.out').read_text()[-2000:]}")
            if self.udp:
                time.sleep(0.1)
                continue
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return
            except OSError:
                time.sleep(0.1)
        pytest.fail("rsyslogd did not listen within 30 s")

    def stop(self) -> None:
        if self.log.closed:
            return
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()

    def lines(self, at_least: int = 1, timeout: float = 20) -> list[str]:
        """The messages received so far, waiting until there are `at_least` of them."""
        deadline = time.monotonic() + timeout
        while True:
            text = self.received.read_text("utf-8") if self.received.exists() else ""
            lines = [ln for ln in text.splitlines() if ln]
            if len(lines) >= at_least or time.monotonic() > deadline:
                return lines
            time.sleep(0.2)
