"""`picsafe-desktop import --consent FILE.json [--vault DIR] SRC...` (exit codes as in cli.py).

Every SRC (files, folders, `gphoto2:` devices) goes into one batch; the consent record is
validated before any source is touched, stored once the photos are in, and the batch becomes
ACTIVE. Without a valid consent nothing is imported.

SRC forms:
  PATH                      a photo file or a folder (searched recursively, links not followed)
  gphoto2:                  every camera/phone libgphoto2 detects on USB
  gphoto2:usb:001,005       the detected device on that port
  gphoto2:disk:/some/dir    libgphoto2's directory camera serving a folder (testing)
"""

from __future__ import annotations

import argparse
import contextlib
import getpass
import re
import sys
from pathlib import Path

from picsafe_desktop import APP_ID
from picsafe_desktop.importer import faults
from picsafe_desktop.importer.events import BatchFinished, FileDone, ImportEvent, Outcome
from picsafe_desktop.importer.files import prune_emptied_sources, scan_paths
from picsafe_desktop.importer.pipeline import Importer
from picsafe_desktop.importer.source import Candidate, Refusal, SourceError
from picsafe_desktop.vault.commands import add_vault_arguments

EXIT_OK, EXIT_CHECK_FAILED, EXIT_USAGE = 0, 1, 2
GPHOTO_PREFIX = "gphoto2:"


def add_commands(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "import",
        help="import photos with a consent record (de-identify, encrypt, wipe the sources)",
        description="Import photos into the vault as one batch covered by one consent record, "
        "then securely wipe the source files (phones: delete only if the site config says so). "
        "Nothing is imported unless the consent record is valid.",
        epilog="SRC: a file or folder; 'gphoto2:' for every USB camera/phone; "
        "'gphoto2:PORT' for one (e.g. gphoto2:usb:001,005); 'gphoto2:disk:DIR' for "
        "libgphoto2's directory camera.",
    )
    parser.add_argument(
        "--consent", metavar="FILE.json", required=True, help="consent record (docs/consent.md)"
    )
    add_vault_arguments(parser)
    parser.add_argument("-q", "--quiet", action="store_true", help="no per-file progress")
    parser.add_argument("sources", nargs="+", metavar="SRC", help="photo files, folders, devices")
    parser.set_defaults(func=run)


# Control, bidirectional-override and invisible characters in a file name would rewrite what
# the terminal shows (a newline fakes a line, U+202E reverses "gpj.exe" into view): escaped.
_UNSAFE = re.compile(
    r"[\x00-\x1f\x7f-\x9f\u061c\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff\ud800-\udfff]"
)


def safe_text(text: str) -> str:
    """`text` with every character that could disguise it escaped as \\xNN or \\uNNNN."""
    return _UNSAFE.sub(
        lambda m: f"\\x{ord(m[0]):02x}" if ord(m[0]) < 0x100 else f"\\u{ord(m[0]):04x}", text
    )


def _err(message: str) -> None:
    print(f"{APP_ID}: {safe_text(message)}", file=sys.stderr)


def _actor() -> str:
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):
        return "cli"


def _site(args: argparse.Namespace):
    site = getattr(args, "site_config", None)
    if site is None:
        from picsafe_desktop import config

        site = config.load(getattr(args, "config", None))
    return site


def run(args: argparse.Namespace) -> int:
    from picsafe_desktop import shutdown

    # SIGTERM during an import: the photo in hand is finished (stored and verified, or left at
    # its source), the rest stay where they are, the consent covers what was stored.
    with shutdown.graceful() as stop:
        return _run(args, stop)


def _run(args: argparse.Namespace, stop) -> int:
    from picsafe_desktop import consent as consent_rules
    from picsafe_desktop import logsetup

    site = _site(args)
    # 1. The consent must be valid before any source is touched.
    try:
        record = consent_rules.load_consent_json(
            Path(args.consent),
            wording=consent_rules.site_wordings(site),
            review_at_age=getattr(site.consent, "review_at_age", consent_rules.DEFAULT_REVIEW_AGE),
        )
    except consent_rules.WordingError as exc:
        _err(f"{exc}; nothing was imported")
        return EXIT_USAGE
    except consent_rules.ConsentError as exc:
        _err(f"{args.consent}: {exc}")
        _err("nothing was imported; fix the consent record (see docs/consent.md) and run again")
        return EXIT_USAGE
    logsetup.register_sensitive(record.patient.mrn, record.patient.name)

    files = [s for s in args.sources if not s.startswith(GPHOTO_PREFIX)]
    devices = [s[len(GPHOTO_PREFIX) :] for s in args.sources if s.startswith(GPHOTO_PREFIX)]
    missing = [f for f in files if not Path(f).exists() and not Path(f).is_symlink()]
    if missing:
        for path in missing:
            _err(f"{path}: does not exist")
        _err("nothing was imported; check the paths and run again")
        return EXIT_USAGE

    from picsafe_desktop.vault import Vault, VaultError
    from picsafe_desktop.vault.vault import DEFAULT_SERVICE

    vault_dir = Path(args.vault).expanduser() if args.vault else Path(site.vault.path)
    actor = _actor()
    try:
        vault = Vault.open(vault_dir, args.keyring_service or DEFAULT_SERVICE)
    except VaultError as exc:
        if faults.is_fault(exc, vault_dir):  # full, read-only, busy: not damage
            _err(f"{vault_dir}: {faults.advice(exc, vault_dir)}; nothing was imported")
            return EXIT_CHECK_FAILED
        _err(f"{exc}; nothing was imported")
        return EXIT_USAGE
    with vault, contextlib.ExitStack() as stack:
        importer = Importer(vault, actor=actor)
        try:
            report = importer.resume()
        except (VaultError, OSError) as exc:
            _err(f"{vault_dir}: {faults.advice(exc, vault_dir)}; nothing was imported")
            return EXIT_CHECK_FAILED
        for note in report.notes:
            _err(note)
        _say_waiting(vault)
        # 2. Find every photo (device problems stop here, before anything is imported).
        delete_on_device = bool(getattr(site, "import").delete_from_device)
        try:
            candidates, refusals = _gather(files, devices, stack, delete_on_device)
        except SourceError as exc:
            _err(f"{exc}")
            _err("nothing was imported")
            return EXIT_CHECK_FAILED
        if not candidates and not refusals:
            _err("no photos found in the given sources; nothing was imported")
            return EXIT_CHECK_FAILED
        # 3. Import as one batch, then record the consent and make the photos usable.
        result = importer.run(
            candidates,
            source_label=_label(files, devices),
            refusals=refusals,
            on_event=None if args.quiet else _progress_printer(),
            cancel=stop,
        )
        prune_emptied_sources(files, candidates)
        consent_id = None
        consent_error: BaseException | None = None
        if result.item_ids:
            try:
                consent_id = consent_rules.store(
                    vault, result.batch_id, record, actor=actor, item_ids=result.item_ids
                )
            except (VaultError, OSError) as exc:
                consent_error = exc
            except consent_rules.ConsentError as exc:  # e.g. answers per photo
                _err(
                    f"{exc}; the photos are stored and wait for consent - record it in the "
                    "PicSafe window"
                )
                return EXIT_CHECK_FAILED
    return _summary(result, consent_id, consent_error, vault_dir)


def _say_waiting(vault) -> None:
    """Photos stored earlier (an import killed before its consent, a vault that stopped taking
    writes) wait for consent: this import does not cover them, and nobody must think it did."""
    from picsafe_desktop.model import ItemState

    waiting = vault.list_items(state=ItemState.AWAITING_CONSENT)
    if waiting:
        batches = len({i.batch_id for i in waiting})
        _err(
            f"note: {len(waiting)} photo(s) from {batches} earlier import(s) are in the vault "
            "and wait for consent (this import does not cover them) - record it in the "
            "PicSafe window"
        )


def _gather(
    files: list[str], devices: list[str], stack: contextlib.ExitStack, delete_on_device: bool
) -> tuple[list[Candidate], list[Refusal]]:
    scan = scan_paths(files)
    candidates: list[Candidate] = list(scan.candidates)
    refusals = list(scan.refusals)
    if devices:
        from picsafe_desktop.importer import gphoto

        for spec in devices:
            for info in _resolve_devices(gphoto, spec):
                device = stack.enter_context(gphoto.Device(info.model, info.port))
                candidates += device.photos(delete_after_import=delete_on_device)
    return candidates, refusals


def _resolve_devices(gphoto, spec: str) -> list:
    if spec.startswith("disk:"):
        return [gphoto.DeviceInfo(gphoto.DIRECTORY_MODEL, spec)]
    found = gphoto.list_devices()
    if spec:
        found = [d for d in found if d.port == spec]
    if not found:
        where = f" on port {spec}" if spec else ""
        raise gphoto.DeviceError(
            gphoto.DeviceState.DISCONNECTED,
            f"gphoto2:{spec}: no camera or phone found{where}; connect it, unlock it, allow "
            "access, and run `picsafe-desktop import` again",
        )
    return found


def _label(files: list[str], devices: list[str]) -> str:
    if devices and not files:
        return "Camera or phone (USB)"
    if files and not devices:
        return "Files (command line)"
    return "Files and devices (command line)"


def _progress_printer():
    def show(event: ImportEvent) -> None:
        if isinstance(event, FileDone):
            r = event.result
            text = f"[{event.done}/{event.total}] {r.outcome.value}: {r.display}"
            if r.outcome in (Outcome.FAILED, Outcome.REFUSED) and r.message:
                text += f" - {r.message}"
            print(safe_text(text), file=sys.stderr)
        elif isinstance(event, BatchFinished):
            print("", file=sys.stderr)

    return show


def _summary(result, consent_id, consent_error=None, vault_dir=None) -> int:
    counts = {o: result.count(o) for o in Outcome}
    stored = [r for r in result.results if r.outcome == Outcome.IMPORTED]
    if consent_id:
        print(
            f"Imported {counts[Outcome.IMPORTED]} photo(s) into batch {result.batch_id} with "
            f"consent {consent_id}."
        )
    elif stored:
        # Stored and verified, but no consent could be saved: say exactly which, and where.
        why = f" ({faults.advice(consent_error, vault_dir)})" if consent_error is not None else ""
        print(
            f"Stored {len(stored)} photo(s) in batch {result.batch_id}, but the consent was "
            f"NOT recorded{why}. They are safe in the vault and wait for consent: record it "
            "in the PicSafe window."
        )
        for r in stored:
            gone = "original removed" if r.source_removed else "original left in place"
            print(f"  waiting for consent: {safe_text(r.display)} ({gone})")
    else:
        print("No new photos were stored.")
    if counts[Outcome.DUPLICATE]:
        print(f"{counts[Outcome.DUPLICATE]} photo(s) were already in the vault (not stored again).")
    bad = [r for r in result.results if r.outcome in (Outcome.FAILED, Outcome.REFUSED)]
    for r in bad:
        _err(r.message if r.display in r.message else f"{r.display}: {r.message}")
    for r in result.manual_removals:
        _err(f"remove by hand: {r.source_note}")
    if stored and not consent_id:
        return EXIT_CHECK_FAILED
    if bad or result.manual_removals:
        _err(f"{len(bad)} not imported, {len(result.manual_removals)} source(s) to remove by hand")
        return EXIT_CHECK_FAILED
    return EXIT_OK
