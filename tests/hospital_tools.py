"""Orthanc as the hospital's worklist/PACS, and worklist entries the tests write (issue 16)."""

from __future__ import annotations

from pathlib import Path

from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.sequence import Sequence
from pydicom.uid import ExplicitVRLittleEndian, generate_uid

from tests.export_tools import Orthanc, free_port, orthanc_plugin, require

CALLING_AET = "PICSAFE"
STOW_USER, STOW_PASSWORD = "ward-pc", "test-only-password"


def start_hospital_orthanc(root: Path) -> Orthanc:
    worklists = root / "worklists"
    worklists.mkdir()
    commit_port = free_port()
    server = Orthanc(
        root,
        require("Orthanc"),
        plugins=(orthanc_plugin("ModalityWorklists"), orthanc_plugin("OrthancDicomWeb")),
        Worklists={"Enable": True, "Database": str(worklists)},
        DicomWeb={"Enable": True, "Root": "/dicom-web/"},
        DicomModalities={"picsafe": [CALLING_AET, "127.0.0.1", commit_port]},
        AuthenticationEnabled=True,  # DICOMweb behind HTTP basic auth, as a hospital runs it
        RegisteredUsers={STOW_USER: STOW_PASSWORD},
    )
    server.worklists = worklists
    server.commit_port = commit_port
    return server


def write_worklist(folder: Path, name: str = "entry", **fields: str) -> Path:
    """One worklist entry (.wl, a DICOM file) as a RIS would publish it; `fields` override."""
    v = {
        "mrn": "MRN-4711", "patient_name": "Doe^Jane", "birth_date": "19800214", "sex": "F",
        "accession": "ACC-2026-0001", "accession_issuer": "WARD-RIS",
        "procedure": "Wound photography", "procedure_code": "WOUNDPHOTO",
        "referring": "House^Gregory", "admission": "ADM-991",
    }  # fmt: skip
    v.update(fields)
    ds = Dataset()
    ds.file_meta = FileMetaDataset()
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.file_meta.MediaStorageSOPClassUID = "1.2.276.0.7230010.3.1.0.1"  # worklist file
    ds.file_meta.MediaStorageSOPInstanceUID = generate_uid()
    ds.SpecificCharacterSet = "ISO_IR 192"
    ds.PatientID = v["mrn"]
    ds.PatientName = v["patient_name"]
    ds.PatientBirthDate = v["birth_date"]
    ds.PatientSex = v["sex"]
    ds.AccessionNumber = v["accession"]
    issuer = Dataset()
    issuer.LocalNamespaceEntityID = v["accession_issuer"]
    ds.IssuerOfAccessionNumberSequence = Sequence([issuer])
    ds.ReferringPhysicianName = v["referring"]
    ds.RequestedProcedureDescription = v["procedure"]
    code = Dataset()
    code.CodeValue = v["procedure_code"]
    code.CodingSchemeDesignator = "99WARD"
    code.CodeMeaning = v["procedure"]
    ds.RequestedProcedureCodeSequence = Sequence([code])
    ds.RequestedProcedureID = "RP1"
    ds.AdmissionID = v["admission"]
    ds.StudyInstanceUID = generate_uid()
    step = Dataset()
    step.Modality = "XC"
    step.ScheduledStationAETitle = CALLING_AET
    step.ScheduledProcedureStepStartDate = "20261201"
    step.ScheduledProcedureStepDescription = v["procedure"]
    ds.ScheduledProcedureStepSequence = Sequence([step])
    path = folder / f"{name}.wl"
    ds.save_as(path, enforce_file_format=True)
    return path


def make_tls(folder: Path) -> dict[str, Path]:
    """A test-made CA, a server certificate for 127.0.0.1/localhost and a client certificate
    (PEM files in `folder`): ca, server_cert, server_key, server_both, client_cert, client_key."""
    import datetime as dt
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    now = dt.datetime.now(dt.UTC)
    start, end = now - dt.timedelta(minutes=5), now + dt.timedelta(days=2)

    def name(cn: str) -> x509.Name:
        return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])

    def key_pem(key) -> bytes:  # noqa: ANN001
        return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                 serialization.NoEncryption())  # fmt: skip

    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = (
        x509.CertificateBuilder().subject_name(name("PicSafe test CA"))
        .issuer_name(name("PicSafe test CA")).public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start).not_valid_after(end)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(x509.KeyUsage(digital_signature=True, content_commitment=False,
                       key_encipherment=False, data_encipherment=False, key_agreement=False,
                       key_cert_sign=True, crl_sign=True, encipher_only=False,
                       decipher_only=False), critical=True)
        .sign(ca_key, hashes.SHA256())
    )  # fmt: skip

    def leaf(cn: str, usage, sans: list):  # noqa: ANN001, ANN202
        key = ec.generate_private_key(ec.SECP256R1())
        builder = (
            x509.CertificateBuilder().subject_name(name(cn)).issuer_name(ca.subject)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(start).not_valid_after(end)
            .add_extension(x509.ExtendedKeyUsage([usage]), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()),
                           critical=False)
        )  # fmt: skip
        if sans:
            builder = builder.add_extension(x509.SubjectAlternativeName(sans), critical=False)
        return builder.sign(ca_key, hashes.SHA256()), key

    server, server_key = leaf("localhost", ExtendedKeyUsageOID.SERVER_AUTH,
                              [x509.DNSName("localhost"),
                               x509.IPAddress(ipaddress.ip_address("127.0.0.1"))])  # fmt: skip
    client, client_key = leaf("PICSAFE", ExtendedKeyUsageOID.CLIENT_AUTH, [])
    pem = serialization.Encoding.PEM
    files = {
        "ca": ca.public_bytes(pem),
        "server_cert": server.public_bytes(pem),
        "server_key": key_pem(server_key),
        "server_both": server.public_bytes(pem) + key_pem(server_key),
        "client_cert": client.public_bytes(pem),
        "client_key": key_pem(client_key),
    }
    out = {}
    for label, data in files.items():
        path = folder / f"{label}.pem"
        path.write_bytes(data)
        out[label] = path
    return out


def start_tls_orthanc(root: Path) -> tuple[Orthanc, dict[str, Path]]:
    """Orthanc with DICOM TLS (client certificates required, signed by the test CA) serving
    worklists. Its DICOMweb is reached over HTTPS through `HttpsProxy` (Debian's Orthanc 1.10
    resets its own HTTPS connections after the handshake under OpenSSL 3)."""
    tls = make_tls(root)
    worklists = root / "worklists"
    worklists.mkdir()
    server = Orthanc(
        root,
        require("Orthanc"),
        plugins=(orthanc_plugin("ModalityWorklists"), orthanc_plugin("OrthancDicomWeb")),
        Worklists={"Enable": True, "Database": str(worklists)},
        DicomWeb={"Enable": True, "Root": "/dicom-web/"},
        DicomTlsEnabled=True,
        DicomTlsCertificate=str(tls["server_cert"]),
        DicomTlsPrivateKey=str(tls["server_key"]),
        DicomTlsTrustedCertificates=str(tls["ca"]),
        DicomTlsRemoteCertificateRequired=True,
        DicomModalities={"picsafe": [CALLING_AET, "127.0.0.1", free_port()]},
        AuthenticationEnabled=True,
        RegisteredUsers={STOW_USER: STOW_PASSWORD},
    )
    server.worklists = worklists
    return server, tls


class HttpsProxy:
    """TLS in front of an http:// service on loopback, as a hospital's reverse proxy does."""

    def __init__(self, upstream: str, cert: Path, key: Path) -> None:
        import ssl
        import threading
        import urllib.error
        import urllib.request
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _forward(self) -> None:
                length = int(self.headers.get("Content-Length", 0))
                body = self.rfile.read(length) if length else None
                skip = ("host", "connection", "content-length")
                headers = {k: v for k, v in self.headers.items() if k.lower() not in skip}
                request = urllib.request.Request(upstream + self.path, data=body,
                                                 method=self.command, headers=headers)  # fmt: skip
                try:
                    with urllib.request.urlopen(request, timeout=60) as r:  # noqa: S310
                        status, answer, kind = r.status, r.read(), r.headers.get("Content-Type")
                except urllib.error.HTTPError as exc:
                    status, answer, kind = exc.code, exc.read(), exc.headers.get("Content-Type")
                self.send_response(status)
                self.send_header("Content-Type", kind or "application/octet-stream")
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            do_GET = do_POST = _forward  # noqa: N815

            def log_message(self, *args):  # keep test output quiet
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(str(cert), str(key))
        self.server.socket = context.wrap_socket(self.server.socket, server_side=True)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join()
