"""Command-line tools the export tests run (installed by scripts/install-system-deps.sh)."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import threading
import time
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


def require(tool: str) -> str:
    """Path of `tool`; skip outside CI when it is missing, fail in CI."""
    path = shutil.which(tool) or (
        f"/usr/sbin/{tool}" if os.path.exists(f"/usr/sbin/{tool}") else None
    )
    if path is None:
        message = f"{tool} is not installed (scripts/install-system-deps.sh installs it)"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)
    return path


AET = "PICSAFETEST"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Orthanc:
    def __init__(self, root, binary: str) -> None:
        self.dicom_port, self.http_port = free_port(), free_port()
        storage = root / "storage"
        config = {
            "Name": "picsafe-test",
            "StorageDirectory": str(storage),
            "IndexDirectory": str(storage),
            "DicomAet": AET,
            "DicomPort": self.dicom_port,
            "HttpPort": self.http_port,
            "RemoteAccessAllowed": False,
            "AuthenticationEnabled": False,
            "DicomCheckCalledAet": True,
            "DicomAlwaysAllowStore": True,
            "DicomAlwaysAllowEcho": True,
            "StorageCompression": False,
            "Plugins": [],
        }
        (root / "orthanc.json").write_text(json.dumps(config))
        self.log = (root / "orthanc.log").open("wb")
        self.proc = subprocess.Popen(
            [binary, str(root / "orthanc.json")], stdout=self.log, stderr=subprocess.STDOUT
        )
        self.log_path = root / "orthanc.log"

    def wait_ready(self) -> None:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                pytest.fail(f"Orthanc exited: {self.log_path.read_text()[-2000:]}")
            try:
                self.get("/system")
                return
            except OSError:
                time.sleep(0.2)
        pytest.fail("Orthanc's REST API did not come up within 60 s")

    def get(self, path: str):
        with urllib.request.urlopen(f"http://127.0.0.1:{self.http_port}{path}", timeout=10) as r:
            body = r.read()
            return json.loads(body) if "json" in r.headers.get("Content-Type", "") else body

    def clear(self) -> None:
        for patient in self.get("/patients"):
            req = urllib.request.Request(
                f"http://127.0.0.1:{self.http_port}/patients/{patient}", method="DELETE"
            )
            urllib.request.urlopen(req, timeout=10).close()

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.log.close()


def transaction_response(request_bundle: dict, status: str = "201 Created") -> dict:
    entries = []
    for n, entry in enumerate(request_bundle["entry"], start=1):
        kind = entry["resource"]["resourceType"]
        entries.append({"response": {"status": status, "location": f"{kind}/{n}/_history/1"}})
    return {"resourceType": "Bundle", "type": "transaction-response", "entry": entries}


class FhirEndpoint:
    """Answers POSTs from a script: each item is (status, body or callable, headers)."""

    def __init__(self) -> None:
        self.script: list[tuple[int, object, dict]] = []
        self.requests: list[dict] = []
        endpoint = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802
                length = int(self.headers.get("Content-Length", 0))
                body = self.rfile.read(length)
                endpoint.requests.append(
                    {"method": "POST", "path": self.path, "headers": dict(self.headers),
                     "body": body}
                )  # fmt: skip
                status, answer, headers = endpoint.script.pop(0)
                if callable(answer):
                    answer = answer(json.loads(body))
                data = answer if isinstance(answer, bytes) else json.dumps(answer).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/fhir+json")
                for key, value in headers.items():
                    self.send_header(key, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):  # keep test output quiet
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        self.base_url = f"http://127.0.0.1:{self.server.server_port}/fhir/r4"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join()
