"""The real window under hostile files and faults, walked with xdotool and screenshots.

Starts the real application the way bench/walk_journey.py does (its own process, Xvfb at
1366x768, openbox, the Secret Service keyring of scripts/with-test-services, a nurse signed in
with a PIN) with a watched drop folder, then runs drills one after another:

    hostile   a corrupt JPEG, a truncated HEIC, a 0-byte file, a .txt renamed .jpg, a
              decompression-bomb PNG, a symlink to /etc/passwd named .jpg, a file that
              vanishes while it is picked up, a folder named after a patient, one good photo
    many      a folder of --many photos (1,000 by default) dropped at once
    readonly  the vault folder made read-only (a read-only bind mount: root ignores modes),
              then a photo dropped
    keyring   the keyring daemon killed mid-session, then a photo dropped
    diskfull  the drive holding the vault filled up (the run is on a 96 MiB tmpfs), a photo
              dropped; then space freed and another photo dropped
    restart   the app stopped and started again (after keyring: with the keyring gone)
    edited    a photo imported, then the vault folder edited while the app runs (that photo's
              blob deleted, a stranger file added) and a photo dropped

Each drill: files go in, the script waits, screenshots every window on top and then presses
Escape on it (look at every screenshot). After each drill it checks that the app still runs,
and at the end that stderr has no traceback, that no plaintext (photo bytes, the patient name
in the file names) is in the app's TMPDIR, HOME, ~/.cache, ~/.config (QtProject.conf
included) or the DEBUG log, and that `audit verify` passes.

    scripts/with-test-services .venv/bin/python bench/walk_faults.py [--shots DIR]
        [--drills hostile,many,readonly,diskfull,edited,keyring,restart] [--many 1000]

Needs what walk_journey needs (openbox, xdotool, imagemagick); root for the bind mount and the
tmpfs. With diskfull, pass --shots outside the run's folder (that folder is the tmpfs).
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import zlib
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
from bench.walk_journey import (  # noqa: E402 - the same real app, display and sign-in
    PIN,
    STAFF_ID,
    Person,
    make_site,
    start_accessibility_bus,
    start_display,
)
from tests.ui.journey_photos import phone_photo  # noqa: E402 - generated, no patient data

CORPUS = REPO.parent / "shared" / "corpus"
PATIENT = "Quenby Philippa RX7700001"  # fictional, as a ward would name a folder
MARKER = b"PICSAFE-PLAINTEXT-MARKER"


def bomb_png() -> bytes:
    """A PNG declaring 60000x60000 pixels (3.6 gigapixels) in a few hundred bytes."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return len(data).to_bytes(4, "big") + body + zlib.crc32(body).to_bytes(4, "big")

    ihdr = (60000).to_bytes(4, "big") * 2 + bytes([8, 0, 0, 0, 0])
    idat = zlib.compress(b"\0" * (60001 * 50), 9)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


def good_photo(label: str) -> bytes:
    return phone_photo("2025:05:06 10:01:10", "#c0504d", label)


class Faults:
    def __init__(self, work: Path, person: Person, app: subprocess.Popen, drop: Path) -> None:
        self.work, self.person, self.app, self.drop = work, person, app, drop
        self.vault = work / "vault"
        self.findings: list[str] = []

    def alive(self, drill: str) -> None:
        if self.app.poll() is not None:
            self.findings.append(f"{drill}: the app exited with {self.app.returncode}")
            raise SystemExit(f"{drill}: the app died")

    def settle(self, seconds: float) -> None:
        time.sleep(seconds)

    def close_dialogs(self, drill: str) -> None:
        """Screenshot each window on top, then Escape it, until only the main window is left
        (the intake's Escape leaves the photos waiting; a problem box shows after it)."""
        for n in range(6):
            titles = self.titles()
            print(f"  {drill}: windows {titles}", flush=True)
            if len(titles) <= 1:
                return
            self.person.shot(f"{drill}-window-{n}")
            self.person.key("Escape")
            time.sleep(1.0)

    def titles(self) -> list[str]:
        ids = self.person.xdo("search", "--onlyvisible", "--name", ".").split()
        names = [self.person.xdo("getwindowname", i) for i in ids]
        return [n for n in names if n and n != "openbox"]

    def left_in_drop(self, drill: str) -> None:
        left = sorted(str(p.relative_to(self.drop)) for p in self.drop.rglob("*"))
        print(f"  {drill}: left in the drop folder: {left[:20]}", flush=True)

    def hostile(self) -> None:
        d = self.drop
        (d / "corrupt.jpg").write_bytes(b"\xff\xd8\xff\xe0" + os.urandom(4000))
        truncated = CORPUS / "broken-truncated__truncated.heic"
        if truncated.exists():
            shutil.copyfile(truncated, d / "truncated.heic")
        (d / "empty.jpg").write_bytes(b"")
        (d / "notes.jpg").write_text("not a photo at all\n", encoding="utf-8")
        (d / "bomb.png").write_bytes(bomb_png())
        (d / "passwd.jpg").symlink_to("/etc/passwd")
        patient = d / PATIENT
        patient.mkdir()
        (patient / "IMG_0101.JPG").write_bytes(good_photo("folder photo"))
        vanishing = d / "vanishing.jpg"
        vanishing.write_bytes(good_photo("vanishing"))
        time.sleep(0.6)
        vanishing.unlink()
        (d / "IMG_0100.JPG").write_bytes(good_photo("good photo"))
        self.settle(12)
        self.person.shot("hostile")
        self.alive("hostile")
        self.close_dialogs("hostile")
        self.left_in_drop("hostile")

    def many(self, count: int) -> None:
        # Staged on the drop folder's drive, then moved in at once (as a copy tool finishes).
        staging = Path(tempfile.mkdtemp(prefix="picsafe-faults-staging-", dir=self.drop.parent))
        folder = staging / "many"
        folder.mkdir()
        body = good_photo("many")
        for n in range(count):
            # Distinct bytes, or the vault takes them as one photo stored again.
            (folder / f"IMG_{n:04d}.JPG").write_bytes(body + n.to_bytes(4, "big"))
        started = time.monotonic()
        folder.rename(self.drop / "many")
        staging.rmdir()
        self.settle(5)
        self.person.shot("many-running")
        self.alive("many")
        deadline = started + 600
        while time.monotonic() < deadline and any((self.drop / "many").glob("*.JPG")):
            time.sleep(2)
        print(f"  many: drop folder emptied in {time.monotonic() - started:.0f} s", flush=True)
        self.settle(3)
        self.person.shot("many-done")
        self.alive("many")
        self.close_dialogs("many")
        self.left_in_drop("many")

    def readonly(self) -> None:
        subprocess.run(["mount", "--bind", str(self.vault), str(self.vault)], check=True)
        subprocess.run(["mount", "-o", "remount,bind,ro", str(self.vault)], check=True)
        try:
            (self.drop / "IMG_0200.JPG").write_bytes(good_photo("read-only vault"))
            self.settle(10)
            self.person.shot("readonly")
            self.alive("readonly")
            self.close_dialogs("readonly")
        finally:
            subprocess.run(["umount", str(self.vault)], check=False)
        left = (self.drop / "IMG_0200.JPG").exists()
        print(f"  readonly: the photo is {'still in the drop folder' if left else 'gone'}")

    def keyring(self) -> None:
        runtime = os.environ["XDG_RUNTIME_DIR"]
        for pid in subprocess.run(
            ["pgrep", "-x", "gnome-keyring-d"], capture_output=True, text=True, check=False
        ).stdout.split():
            environ = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
            if f"XDG_RUNTIME_DIR={runtime}".encode() in environ:
                os.kill(int(pid), signal.SIGKILL)
        time.sleep(1)
        (self.drop / "IMG_0300.JPG").write_bytes(good_photo("no keyring"))
        self.settle(10)
        self.person.shot("keyring-killed")
        self.alive("keyring")
        self.close_dialogs("keyring")
        self.left_in_drop("keyring")

    def diskfull(self) -> None:
        """The drive holding the vault fills up (the work folder is a small tmpfs)."""
        filler = self.work / "filler"
        fd = os.open(filler, os.O_WRONLY | os.O_CREAT, 0o600)
        for block in (1 << 20, 4096, 1):
            try:
                while True:
                    os.write(fd, b"\0" * block)
            except OSError:
                pass
        os.close(fd)
        try:
            (self.drop / "IMG_0500.JPG").write_bytes(good_photo("disk full"))
        except OSError:
            print("  diskfull: no room even for the photo in the drop folder", flush=True)
        self.settle(10)
        self.person.shot("diskfull")
        self.alive("diskfull")
        self.close_dialogs("diskfull")
        self.left_in_drop("diskfull")
        filler.unlink()
        (self.drop / "IMG_0501.JPG").write_bytes(good_photo("space again"))
        self.settle(10)
        self.person.shot("diskfull-freed")
        self.alive("diskfull")
        self.close_dialogs("diskfull-freed")
        self.left_in_drop("diskfull-freed")

    def restart(self) -> None:
        """The app stopped and started again (after `keyring`: the keyring is still gone)."""
        self.app.send_signal(signal.SIGTERM)
        self.app.wait(timeout=60)
        self.app = self.launch()
        self.settle(10)
        self.person.shot("restarted")
        self.alive("restart")
        titles = self.titles()
        print(f"  restart: windows {titles}", flush=True)
        if titles == ["PicSafe Desktop"] and not self.person.xdo(
            "search", "--onlyvisible", "--name", "cannot be opened"
        ):
            sign_in(self.person)
            self.settle(3)
            self.close_dialogs("restart")

    def edited(self) -> None:
        (self.drop / "IMG_0399.JPG").write_bytes(good_photo("blob to lose"))
        self.settle(8)
        self.close_dialogs("edited-before")
        blobs = sorted((self.vault / "blobs").glob("??/*.psv"))
        if blobs:
            blobs[0].unlink()
            print(f"  edited: removed blob {blobs[0].name}", flush=True)
        (self.vault / "blobs" / "stranger.bin").write_bytes(os.urandom(100))
        (self.drop / "IMG_0400.JPG").write_bytes(good_photo("after edit"))
        self.settle(10)
        self.person.shot("edited")
        self.alive("edited")
        self.close_dialogs("edited")
        self.left_in_drop("edited")


def sign_in(person: Person) -> None:
    person.window("PicSafe")
    person.type(STAFF_ID)
    person.key("Tab")
    person.type(PIN)
    person.key("Return")
    time.sleep(1.5)
    person.shot("signed-in")


def leaks(work: Path, shots: Path, drop: Path) -> list[str]:
    """Files outside the vault carrying a photo's bytes or the patient's name."""
    found = []
    needles = (PATIENT.encode(), b"RX7700001", b"\xff\xd8\xff")
    # The app's TMPDIR, HOME, XDG_CONFIG_HOME and XDG_CACHE_HOME are all under `work`.
    for top, _dirs, files in os.walk(work):
        for path in (Path(top) / name for name in files):
            if (
                not path.is_file()
                or path.is_symlink()
                or shots in path.parents
                or (work / "vault") in path.parents
                or drop in path.parents
            ):
                continue
            try:
                data = path.read_bytes()
            except OSError:
                continue
            for needle in needles:
                if needle in data:
                    found.append(f"{path}: contains {needle[:12]!r}")
                    break
    return found


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--shots", default="")
    parser.add_argument("--drills", default="hostile,many,readonly,diskfull,edited,keyring,restart")
    parser.add_argument("--many", type=int, default=1000)
    args = parser.parse_args()
    runtime = Path(os.environ.get("XDG_RUNTIME_DIR", ""))
    if not os.environ.get("PICSAFE_IN_TEST_SESSION") or not runtime.is_dir():
        raise SystemExit("run through scripts/with-test-services (a private keyring)")
    work = Path(tempfile.mkdtemp(prefix="picsafe-faults-"))
    if "diskfull" in args.drills:
        # All of the run on one small drive, so it can be filled (root: a tmpfs).
        subprocess.run(["mount", "-t", "tmpfs", "-o", "size=96m", "tmpfs", str(work)], check=True)
    shots = Path(args.shots or work / "shots")
    shots.mkdir(parents=True, exist_ok=True)
    # The drop folder on another drive than the vault (as a share or phone would be), so a
    # full vault drive still lets photos arrive.
    drop = Path(tempfile.mkdtemp(prefix="picsafe-faults-drop-"))
    xvfb = wm = None
    apps: list[subprocess.Popen] = []
    try:
        toml = make_site(work)
        text = toml.read_text(encoding="utf-8").replace('file = "', 'level = "DEBUG"\nfile = "', 1)
        toml.write_text(text + f'drop_folders = ["{drop}"]\n', encoding="utf-8")
        xvfb, wm, display = start_display(work)
        env = dict(
            os.environ,
            DISPLAY=display,
            QT_QPA_PLATFORM="xcb",
            HOME=str(work),
            XDG_CONFIG_HOME=str(work / "config"),
            XDG_CACHE_HOME=str(work / "cache"),
            TMPDIR=str(work / "tmp"),
            QT_LINUX_ACCESSIBILITY_ALWAYS_ON="1",
        )
        (work / "tmp").mkdir()
        start_accessibility_bus(env)
        stderr = work / "app.stderr"

        def launch() -> subprocess.Popen:
            apps.append(
                subprocess.Popen(
                    [str(REPO / ".venv" / "bin" / "picsafe-desktop"), "--config", str(toml)],
                    env=env,
                    stdout=subprocess.DEVNULL,
                    stderr=open(stderr, "ab"),  # noqa: SIM115 - closed with the process
                )
            )
            return apps[-1]

        app = launch()
        person = Person(display, shots)
        sign_in(person)
        faults = Faults(work, person, app, drop)
        faults.launch = launch
        for drill in args.drills.split(","):
            print(f"drill {drill}", flush=True)
            if drill == "many":
                faults.many(args.many)
            else:
                getattr(faults, drill)()
        app = faults.app
        app.send_signal(signal.SIGTERM)
        app.wait(timeout=60)
        err = stderr.read_text(encoding="utf-8", errors="replace")
        if "Traceback" in err:
            faults.findings.append("a traceback on stderr:\n" + err[-3000:])
        faults.findings += leaks(work, shots, drop)
        verify = subprocess.run(
            [str(REPO / ".venv" / "bin" / "picsafe-desktop"), "--config", str(toml), "audit",
             "verify"],
            capture_output=True, text=True, check=False,
        )  # fmt: skip
        print(f"audit verify: exit {verify.returncode}: {verify.stdout.strip()[-300:]}")
        if verify.returncode != 0:
            faults.findings.append(f"audit verify failed: {verify.stderr.strip()[-500:]}")
        print(f"stderr ({len(err)} chars): {err[-1500:]}")
        log = work / "log" / "app.log"
        if log.exists():
            lines = log.read_text(encoding="utf-8", errors="replace").splitlines()
            print("log warnings and errors:")
            for line in lines:
                if " WARNING " in line or " ERROR " in line or " CRITICAL " in line:
                    print(f"  {line[:300]}")
        print(f"FAULT WALK: {len(faults.findings)} finding(s)")
        for line in faults.findings:
            print(f"  - {line}")
        print(f"screenshots in {shots}")
        return 1 if faults.findings else 0
    finally:
        for proc in (*apps, wm, xvfb):
            if proc is not None and proc.poll() is None:
                proc.terminate()
                try:
                    proc.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    proc.kill()
        subprocess.run(["umount", str(work / "vault")], capture_output=True, check=False)
        for child in work.iterdir():
            if child != shots:
                shutil.rmtree(child) if child.is_dir() else child.unlink()
        shutil.rmtree(drop)
        if "diskfull" in args.drills:
            subprocess.run(["umount", str(work)], check=False)
        if shots.parent != work:
            work.rmdir()


if __name__ == "__main__":
    raise SystemExit(main())
