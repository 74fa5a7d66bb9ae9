"""DICOM Storage Commitment Push Model (PS3.4 Annex J, IHE RAD-10) after sending to the PACS.

A photo counts as "in the PACS" only when the PACS has taken responsibility for it: we send an
N-ACTION naming the SOP instances, and the PACS answers later with an N-EVENT-REPORT on an
association it opens to us (as Orthanc does, to the modality its "DicomModalities" names for our
calling AE title). So for the wait we listen on `[pacs] commitment_port`, accepting only the
configured PACS AE title. Instances the report does not list as committed are not committed.
"""

from __future__ import annotations

import logging
import socket
import threading
from collections.abc import Sequence
from dataclasses import dataclass

from pydicom.dataset import Dataset
from pydicom.sequence import Sequence as DicomSequence
from pydicom.uid import UID, generate_uid
from pynetdicom import AE, evt
from pynetdicom.sop_class import StorageCommitmentPushModel

from picsafe_desktop.export.dicom import PacsTarget, _associate, tls_args
from picsafe_desktop.export.types import DeliveryError

log = logging.getLogger(__name__)

# the well-known SOP Instance of the Storage Commitment Push Model (PS3.4 J.3.5)
PUSH_MODEL_INSTANCE = UID("1.2.840.10008.1.20.1.1")


@dataclass(frozen=True)
class CommitResult:
    transaction_uid: str
    committed: tuple[str, ...]  # SOP Instance UIDs the PACS took responsibility for
    failed: tuple[str, ...]  # the rest: listed as failed, or not answered in time
    destination: str = ""


def _refs(items: Sequence[tuple[str, str]]) -> DicomSequence:
    seq = []
    for class_uid, instance_uid in items:
        ref = Dataset()
        ref.ReferencedSOPClassUID = class_uid
        ref.ReferencedSOPInstanceUID = instance_uid
        seq.append(ref)
    return DicomSequence(seq)


class _Listener:
    """Accepts the PACS's N-EVENT-REPORT for one transaction."""

    def __init__(self, target: PacsTarget, port: int, transaction_uid: str) -> None:
        self.transaction_uid = transaction_uid
        self.allowed = _addresses(target.host)
        self.refused = 0  # reports from another address: never counted
        self.report: Dataset | None = None
        self.done = threading.Event()
        ae = AE(ae_title=target.calling_ae_title)
        ae.acse_timeout = ae.dimse_timeout = ae.network_timeout = target.timeout
        ae.require_called_aet = True
        ae.require_calling_aet = [target.ae_title]  # only the PACS may report
        # the PACS requests the association and acts as the SCP of the service
        ae.add_supported_context(StorageCommitmentPushModel, scu_role=True, scp_role=True)
        tls = tls_args(target)
        server_ctx = None
        if tls is not None and target.tls_cert_file:
            import ssl

            server_ctx = ssl.create_default_context(
                ssl.Purpose.CLIENT_AUTH, cafile=target.tls_ca_file or None
            )
            server_ctx.load_cert_chain(target.tls_cert_file, target.tls_key_file or None)
        try:
            self.server = ae.start_server(
                ("", port),
                block=False,
                ssl_context=server_ctx,
                evt_handlers=[(evt.EVT_N_EVENT_REPORT, self._on_report)],
            )
        except OSError as exc:
            raise DeliveryError(
                f"cannot listen on port {port} for the PACS's storage commitment answer "
                f"({exc.strerror or exc}); check [pacs] commitment_port"
            ) from None

    def _on_report(self, event) -> tuple[int, None]:  # noqa: ANN001 - pynetdicom's Event
        # An AE title is no proof of identity: only the PACS's own address may commit photos,
        # which policy may later shred here (the transaction UID is not guessable either).
        if event.assoc.requestor.address not in self.allowed:
            self.refused += 1
            log.warning("storage commitment report from an address that is not the PACS")
            return 0x0110, None  # processing failure
        ds = event.event_information  # event type 1: all committed; 2: some failed
        if str(ds.get("TransactionUID", "")) == self.transaction_uid:
            self.report = ds
            self.done.set()
        # another transaction's report (an earlier request that timed out) is acknowledged too
        return 0x0000, None

    def close(self) -> None:
        self.server.shutdown()


def _addresses(host: str) -> frozenset[str]:
    try:
        found = socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)
    except OSError as exc:
        raise DeliveryError(f"cannot resolve the PACS host {host!r}: {exc}") from None
    return frozenset(str(info[4][0]) for info in found)


def request(
    target: PacsTarget,
    instances: Sequence[tuple[str, str]],
    *,
    port: int,
    timeout: float = 60.0,
) -> CommitResult:
    """Ask the PACS to commit `instances` ((SOP Class UID, SOP Instance UID) pairs) and wait
    up to `timeout` seconds for its report. Raises DeliveryError when it cannot be asked."""
    transaction = str(generate_uid())
    wanted = [uid for _, uid in instances]
    listener = _Listener(target, port, transaction)
    try:
        ae = AE(ae_title=target.calling_ae_title)
        ae.acse_timeout = ae.dimse_timeout = ae.network_timeout = target.timeout
        ae.add_requested_context(StorageCommitmentPushModel)
        assoc = _associate(ae, target)
        try:
            ds = Dataset()
            ds.TransactionUID = transaction
            ds.ReferencedSOPSequence = _refs(instances)
            status, _ = assoc.send_n_action(ds, 1, StorageCommitmentPushModel, PUSH_MODEL_INSTANCE)
        finally:
            assoc.release()
        code = getattr(status, "Status", None)
        if code != 0x0000:
            shown = "no answer" if code is None else f"DICOM status 0x{code:04X}"
            raise DeliveryError(
                f"the PACS at {target.describe()} refused the storage commitment request "
                f"({shown}); the photos are stored but not confirmed"
            )
        listener.done.wait(timeout)
        report = listener.report
    finally:
        listener.close()
    committed: list[str] = []
    if report is not None:
        listed = {str(r.ReferencedSOPInstanceUID) for r in report.get("ReferencedSOPSequence", [])}
        committed = [uid for uid in wanted if uid in listed]
    failed = tuple(uid for uid in wanted if uid not in committed)
    log.info(
        "storage commitment: %d committed, %d not (%s)",
        len(committed),
        len(failed),
        "answered" if report is not None else "no answer in time",
    )
    return CommitResult(transaction, tuple(committed), failed, target.describe())
