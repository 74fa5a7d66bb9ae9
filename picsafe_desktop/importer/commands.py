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
import sys
from pathlib import Path

from picsafe_desktop import APP_ID
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


def _err(message: str) -> None:
    print(f"{APP_ID}: {message}", file=sys.stderr)


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
        _err(f"{exc}; nothing was imported")
        return EXIT_USAGE
    with vault, contextlib.ExitStack() as stack:
        importer = Importer(vault, actor=actor)
        report = importer.resume()
        for note in report.notes:
            _err(note)
        if report.completed:
            _err(
                f"{report.completed} photo(s) from an interrupted import are in the vault and "
                "wait for consent in the PicSafe window"
            )
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
        )
        prune_emptied_sources(files, candidates)
        consent_id = None
        if result.item_ids:
            try:
                consent_id = consent_rules.store(
                    vault, result.batch_id, record, actor=actor, item_ids=result.item_ids
                )
            except (VaultError, consent_rules.ConsentError) as exc:  # e.g. answers per photo
                _err(
                    f"{exc}; the photos are stored and wait for consent - record it in the "
                    "PicSafe window"
                )
                return EXIT_CHECK_FAILED
    return _summary(result, consent_id)


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
            print(text, file=sys.stderr)
        elif isinstance(event, BatchFinished):
            print("", file=sys.stderr)

    return show


def _summary(result, consent_id: str | None) -> int:
    counts = {o: result.count(o) for o in Outcome}
    if consent_id:
        print(
            f"Imported {counts[Outcome.IMPORTED]} photo(s) into batch {result.batch_id} with "
            f"consent {consent_id}."
        )
    else:
        print("No new photos were stored.")
    if counts[Outcome.DUPLICATE]:
        print(f"{counts[Outcome.DUPLICATE]} photo(s) were already in the vault (not stored again).")
    bad = [r for r in result.results if r.outcome in (Outcome.FAILED, Outcome.REFUSED)]
    for r in bad:
        _err(r.message if r.display in r.message else f"{r.display}: {r.message}")
    for r in result.manual_removals:
        _err(f"remove by hand: {r.source_note}")
    if bad or result.manual_removals:
        _err(f"{len(bad)} not imported, {len(result.manual_removals)} source(s) to remove by hand")
        return EXIT_CHECK_FAILED
    return EXIT_OK
