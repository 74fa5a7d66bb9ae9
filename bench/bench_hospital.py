"""Issue 16 round trips on loopback against a real Orthanc (worklist, DICOMweb, commitment):

    .venv/bin/python bench/bench_hospital.py [--runs 21] [--photos 10]

Prints the median of: a worklist C-FIND for one MRN; C-STORE of N photos; STOW-RS of the same N
photos; and a storage commitment request for them until Orthanc's report arrives. Loopback
only: a hospital network adds its own latency to each.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from pydicom.uid import VLPhotographicImageStorage  # noqa: E402

from picsafe_desktop.export import commitment, dicom, stow  # noqa: E402
from picsafe_desktop.hospital import worklist  # noqa: E402
from picsafe_desktop.hospital.dimse import DicomPeer  # noqa: E402
from tests import export_data as d  # noqa: E402
from tests.export_tools import AET  # noqa: E402
from tests.hospital_tools import (  # noqa: E402
    CALLING_AET,
    STOW_PASSWORD,
    STOW_USER,
    start_hospital_orthanc,
    write_worklist,
)


def median_s(fn, runs: int) -> float:  # noqa: ANN001
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=21)
    parser.add_argument("--photos", type=int, default=10)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        server = start_hospital_orthanc(Path(tmp))
        try:
            server.wait_ready()
            write_worklist(server.worklists, "jane")
            peer = DicomPeer("worklist", AET, "127.0.0.1", server.dicom_port)
            pacs = dicom.PacsTarget(AET, "127.0.0.1", server.dicom_port,
                                    calling_ae_title=CALLING_AET)  # fmt: skip
            target = stow.StowTarget(f"http://127.0.0.1:{server.http_port}/dicom-web",
                                     username=STOW_USER, password=STOW_PASSWORD)  # fmt: skip
            photos = [d.photo(f"p{i}", d.synthetic_jpeg()) for i in range(args.photos)]
            batch = d.batch(photos)
            sent = dicom.send(batch, pacs).sent
            pairs = [(VLPhotographicImageStorage, uid) for uid in sent]

            def commit() -> None:
                result = commitment.request(pacs, pairs, port=server.commit_port, timeout=30)
                assert len(result.committed) == len(pairs)

            n, runs = args.photos, args.runs
            print(
                f"worklist C-FIND, 1 MRN        : "
                f"{median_s(lambda: worklist.find(peer, 'MRN-4711'), runs) * 1000:7.1f} ms"
            )
            print(
                f"C-STORE {n} photos             : "
                f"{median_s(lambda: dicom.send(batch, pacs), runs) * 1000:7.1f} ms"
            )
            print(
                f"STOW-RS {n} photos             : "
                f"{median_s(lambda: stow.send(batch, target), runs) * 1000:7.1f} ms"
            )
            print(f"storage commitment, {n} photos : {median_s(commit, runs) * 1000:7.1f} ms")
        finally:
            server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
