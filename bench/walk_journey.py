"""The ward journey walked with a real mouse and keyboard, measured (issue 12).

Starts the real application (`picsafe-desktop --config ...`, its own process) on an Xvfb
screen of 1366x768 with a real window manager (openbox), a real keyring (the Secret Service
of scripts/with-test-services), a staff member enrolled with a PIN, and then plugs in a
simulated phone: a gvfs-style MTP mount appearing under $XDG_RUNTIME_DIR/gvfs with the photos
of two patients (two capture-time groups) and one personal photo. Everything after that is
done with xdotool only - key presses, typing, clicks and a signature drawn with the mouse -
from "phone plugged in" to "two patients' consents recorded, the personal photo destroyed".
A screenshot of the whole screen is saved at each step. At the end the vault is opened and
checked, and the clicks, key presses, typed characters and seconds are printed.

    scripts/with-test-services .venv/bin/python bench/walk_journey.py [--shots DIR]

    scripts/with-test-services .venv/bin/python bench/walk_journey.py --mouse

Needs the Debian packages openbox, xdotool, imagemagick and python3-pyatspi (the TEST list in
scripts/install-system-deps.sh). Finding widgets: windows by title (xdotool search); with
--mouse, fields and buttons by their accessible names over AT-SPI, as a screen reader finds
them (bench/atspi_where.py); without it, the keyboard only (focus order, Enter, Alt+letter),
the signature pad by its look on the screenshot (the one tall white box in the form).
"""

from __future__ import annotations

import argparse
import io
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from PIL import Image

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
from tests.ui.journey_photos import phone_photo  # noqa: E402 - generated, no patient data

STAFF_ID, PIN = "N4411", "4826"
PATIENTS = (("RX7700001", "Philippa Quenby"), ("RX7700002", "Bartholomew Ashdown"))
SHOTS = (
    ("IMG_0001.JPG", "2025:05:06 10:01:10", "#c0504d", "A wound 1"),
    ("IMG_0002.JPG", "2025:05:06 10:03:00", "#c0504d", "A wound 2"),
    ("IMG_0003.JPG", "2025:05:06 10:05:30", "#c0504d", "A wound 3"),
    ("IMG_0004.JPG", "2025:05:06 10:41:00", "#4f81bd", "B ulcer 1"),
    ("IMG_0005.JPG", "2025:05:06 10:43:20", "#4f81bd", "B ulcer 2"),
    ("IMG_0006.JPG", "2025:05:06 19:30:00", "#9bbb59", "my dog"),
)
WIDTH, HEIGHT = 1366, 768


class Person:
    """Drives the display with xdotool and counts what a person would do."""

    def __init__(self, display: str, shots: Path) -> None:
        self.env = dict(os.environ, DISPLAY=display)
        self.shots = shots
        self.clicks = self.keys = self.typed = self.drags = 0
        self.step = 0

    def xdo(self, *args: str) -> str:
        done = subprocess.run(
            ["xdotool", *args], env=self.env, capture_output=True, text=True, check=False
        )
        return done.stdout.strip()

    def key(self, *names: str) -> None:
        for name in names:
            self.keys += 1
            self.xdo("key", "--clearmodifiers", name)
            time.sleep(0.15)

    def type(self, text: str) -> None:
        self.typed += len(text)
        self.xdo("type", "--delay", "40", text)
        time.sleep(0.15)

    def click(self, x: int, y: int) -> None:
        self.clicks += 1
        self.xdo("mousemove", str(x), str(y))
        time.sleep(0.1)
        self.xdo("click", "1")
        time.sleep(0.2)

    def find(self, role: str, name: str, timeout: float = 15.0) -> tuple[int, int, int, int]:
        """A widget's screen rectangle by its accessible role and name (AT-SPI, as a screen
        reader sees the window; bench/atspi_where.py)."""
        end = time.monotonic() + timeout
        while True:
            done = subprocess.run(
                ["/usr/bin/python3", str(REPO / "bench" / "atspi_where.py"), role, name],
                env=self.env,
                capture_output=True,
                text=True,
                check=False,
            )
            if done.returncode == 0:
                x, y, w, h = (int(v) for v in done.stdout.split())
                return x, y, w, h
            if time.monotonic() > end:
                self.shot("not-found")
                raise SystemExit(f"no {role} named {name!r} on screen")
            time.sleep(0.3)

    def click_on(self, role: str, name: str) -> None:
        x, y, w, h = self.find(role, name)
        self.click(x + w // 2, y + h // 2)

    def drag(self, points: list[tuple[int, int]]) -> None:
        """One stroke with the left button held (a signature)."""
        self.drags += 1
        x, y = points[0]
        self.xdo("mousemove", str(x), str(y))
        self.xdo("mousedown", "1")
        for x, y in points[1:]:
            self.xdo("mousemove", str(x), str(y))
            time.sleep(0.01)
        self.xdo("mouseup", "1")
        time.sleep(0.2)

    def screen(self) -> Image.Image:
        png = subprocess.run(
            ["import", "-window", "root", "png:-"], env=self.env, capture_output=True, check=True
        ).stdout
        return Image.open(io.BytesIO(png)).convert("RGB")

    def shot(self, name: str) -> Image.Image:
        time.sleep(0.4)
        self.step += 1
        image = self.screen()
        path = self.shots / f"{self.step:02d}-{name}.png"
        image.save(path)
        print(f"  screenshot {path}", flush=True)
        return image

    def window(self, title: str, timeout: float = 30.0) -> str:
        """The id of the visible window whose title matches `title` (a regex)."""
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            found = self.xdo("search", "--onlyvisible", "--name", title).split()
            if found:
                return found[-1]
            time.sleep(0.2)
        self.shot("timeout")
        raise SystemExit(f"no window titled {title!r} appeared within {timeout:.0f} s")

    def gone(self, title: str, timeout: float = 30.0) -> None:
        end = time.monotonic() + timeout
        while self.xdo("search", "--onlyvisible", "--name", title):
            if time.monotonic() > end:
                self.shot("timeout")
                raise SystemExit(f"the window {title!r} did not close within {timeout:.0f} s")
            time.sleep(0.2)

    def geometry(self, window: str) -> tuple[int, int, int, int]:
        values = dict(
            line.split("=", 1)
            for line in self.xdo("getwindowgeometry", "--shell", window).splitlines()
        )
        return int(values["X"]), int(values["Y"]), int(values["WIDTH"]), int(values["HEIGHT"])

    def wait_for_colour(self, rgb: tuple[int, int, int], timeout: float = 30.0) -> None:
        """Until a patch of this colour is on screen (the phone banner's background)."""
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            image = self.screen().resize((WIDTH // 4, HEIGHT // 4), Image.Resampling.NEAREST)
            if sum(1 for p in image.get_flattened_data() if p == rgb) > 50:
                return
            time.sleep(0.3)
        self.shot("timeout")
        raise SystemExit(f"nothing of colour {rgb} appeared within {timeout:.0f} s")


def signature_pad(image: Image.Image, box: tuple[int, int, int, int]) -> tuple[int, int, int, int]:
    """The signature pad inside the consent window `box` (x, y, w, h) on the screenshot: the
    tallest block of rows that share one long pure-white run (text fields are short, the
    wording and the photo strip are broken by text or wider than a pad)."""
    x0, y0, w, h = box
    crop = image.crop((x0, y0, x0 + w, y0 + h))
    px = crop.load()
    best, run_start, previous = None, 0, None
    for y in range(h):
        runs, start = [], None
        for x in range(w):
            white = px[x, y] == (255, 255, 255)
            if white and start is None:
                start = x
            elif not white and start is not None:
                runs.append((start, x))
                start = None
        long_runs = [r for r in runs if 250 <= r[1] - r[0] <= 900]
        current = long_runs[0] if len(long_runs) == 1 else None
        if current != previous:
            run_start = y
        previous = current
        if current is not None and (best is None or y - run_start > best[3]):
            best = (current[0], run_start, current[1] - current[0], y - run_start)
    if best is None or best[3] < 60:
        raise SystemExit("the signature pad was not found on the consent window")
    return best[0] + x0, best[1] + y0, best[2], best[3]


def sign(person: Person, pad: tuple[int, int, int, int]) -> None:
    x, y, w, h = pad
    top, bottom = y + h * 0.25, y + h * 0.8
    points = []
    for step in range(15):
        px = x + w * 0.1 + step * w * 0.055
        points.append((int(px), int(top if step % 2 else bottom)))
    person.drag(points)


def make_site(work: Path) -> Path:
    """A throwaway vault (master key in the session's keyring) with one enrolled nurse."""
    from picsafe_desktop import config
    from picsafe_desktop.staff.pins import StaffStore
    from picsafe_desktop.vault import Vault

    toml = work / "site.toml"
    toml.write_text(
        f'[vault]\npath = "{work / "vault"}"\n\n'
        f'[logging]\nfile = "{work / "log" / "app.log"}"\n\n'
        "[import]\ndevice_poll_seconds = 1.0\n",
        encoding="utf-8",
    )
    site = config.load(str(toml))
    vault, _code = Vault.create(site.vault.path)
    StaffStore.for_vault(vault).add(
        STAFF_ID, "Sam Okafor", ["clinician"], PIN, title="Staff nurse", actor="walkthrough"
    )
    vault.close()
    return toml


def plug_in_phone(runtime: Path) -> Path:
    """A phone appears as gvfs mounts it over MTP (the folder is complete when it shows)."""
    staging = runtime / "gvfs-staging" / "DCIM" / "100APPLE"
    staging.mkdir(parents=True)
    for name, when, colour, label in SHOTS:
        (staging / name).write_bytes(phone_photo(when, colour, label))
    mount = runtime / "gvfs" / "mtp:host=Pixel_7"
    mount.parent.mkdir(parents=True, exist_ok=True)
    (runtime / "gvfs-staging").rename(mount)
    return mount


def start_display(work: Path) -> tuple[subprocess.Popen, subprocess.Popen, str]:
    read, write = os.pipe()
    xvfb = subprocess.Popen(
        ["Xvfb", "-displayfd", str(write), "-screen", "0", f"{WIDTH}x{HEIGHT}x24", "-nolisten",
         "tcp"],
        pass_fds=(write,),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )  # fmt: skip
    os.close(write)
    number = b""
    while not number.endswith(b"\n"):
        chunk = os.read(read, 16)
        if not chunk:
            raise SystemExit("Xvfb did not start")
        number += chunk
    os.close(read)
    display = f":{number.decode().strip()}"
    env = dict(os.environ, DISPLAY=display, HOME=str(work), XDG_CONFIG_HOME=str(work / "config"))
    wm = subprocess.Popen(
        ["openbox"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    time.sleep(1.0)
    return xvfb, wm, display


def start_accessibility_bus(env: dict) -> None:
    """The AT-SPI bus must run before the app starts, or Qt does not register on it."""
    subprocess.run(
        ["dbus-send", "--session", "--dest=org.a11y.Bus", "--print-reply", "/org/a11y/bus",
         "org.a11y.Bus.GetAddress"],
        env=env, capture_output=True, check=False,
    )  # fmt: skip


def check_vault(toml: Path) -> str:
    from picsafe_desktop import config
    from picsafe_desktop.model import ItemState
    from picsafe_desktop.vault import Vault

    site = config.load(str(toml))
    with Vault.open(site.vault.path) as vault:
        items = vault.list_items()
        consents = {i.consent_id for i in items if i.state == ItemState.ACTIVE}
        destroyed = [r for r in vault.audit_rows() if r.event == "delete"]
        waiting = [i for i in items if i.state == ItemState.AWAITING_CONSENT]
        active = [i for i in items if i.state == ItemState.ACTIVE]
    return (
        f"{len(consents)} consents for {len(active)} photos, {len(destroyed)} photo(s) "
        f"destroyed, {len(waiting)} waiting"
    )


def walk(person: Person, runtime: Path, mouse: bool) -> float:
    """The journey; `mouse`: clicked the way a mouse user does (fields, buttons, radio
    buttons), else keyboard only (focus order, Enter, the buttons' Alt+letter)."""
    person.window("PicSafe")
    person.shot("lock-screen")
    # Sign in: staff ID, PIN, Enter (the ID field has the focus).
    person.type(STAFF_ID)
    person.key("Tab")
    person.type(PIN)
    person.key("Return")
    time.sleep(1.5)
    person.shot("signed-in")

    print("phone plugged in", flush=True)
    person.clicks = person.keys = person.typed = person.drags = 0  # sign-in is not counted
    started = time.monotonic()
    plug_in_phone(runtime)
    person.wait_for_colour((255, 244, 206))  # the banner
    person.shot("phone-banner")
    if mouse:
        person.click_on("push button", "^Import photos from the connected device$")
    else:
        person.key("alt+i")  # "Import photos from it"
    person.window("Photos to file")
    person.shot("intake")
    for n, (mrn, name) in enumerate(PATIENTS, start=1):
        # The next patient's set is selected and the grid has the focus: Enter = consent.
        if mouse:
            person.click_on("push button", "^Record consent for")
        else:
            person.key("Return")
        form = person.window("^Consent")
        person.shot(f"consent-{n}-empty")
        person.type(mrn)  # the MRN field has the focus
        if mouse:
            person.click_on("text", "^Patient name$")
        else:
            person.key("Tab")
        person.type(name)
        if mouse:
            person.click_on("radio button", "^The patient$")
        else:
            person.key("alt+p")  # "The patient"
        # No need to tick "Written": signing on the pad picks it.
        image = person.shot(f"consent-{n}-typed")
        pad = person.find("filler", "^Signature pad$") if mouse else None
        sign(person, pad or signature_pad(image, person.geometry(form)))
        person.shot(f"consent-{n}-signed")
        if mouse:
            person.click_on("push button", "^Record consent$")
        else:
            person.key("alt+r")  # Record consent
        person.gone("^Consent")
        time.sleep(0.8)
        person.shot(f"after-consent-{n}")
    # The personal photo: the last set, selected; destroyed (after a confirmation).
    if mouse:
        person.click_on("push button", "destroy 1 photo")
    else:
        person.key("alt+d")
    person.window("Destroy photos")
    person.shot("destroy-confirm")
    if mouse:
        person.click_on("push button", "^Yes$")
    else:
        person.key("alt+y")
    person.gone("Photos to file")
    seconds = time.monotonic() - started
    person.shot("done")
    return seconds


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--shots", default="", help="folder for the screenshots")
    parser.add_argument(
        "--mouse", action="store_true", help="click fields and buttons instead of the keyboard"
    )
    args = parser.parse_args()
    for tool in ("Xvfb", "openbox", "xdotool", "import"):
        if shutil.which(tool) is None:
            raise SystemExit(f"{tool} is missing: run scripts/install-system-deps.sh --test")
    runtime = Path(os.environ.get("XDG_RUNTIME_DIR", ""))
    if not os.environ.get("PICSAFE_IN_TEST_SESSION") or not runtime.is_dir():
        raise SystemExit("run through scripts/with-test-services (a private keyring)")
    work = Path(tempfile.mkdtemp(prefix="picsafe-walk-"))
    shots = Path(args.shots or work / "shots")
    shots.mkdir(parents=True, exist_ok=True)
    xvfb = wm = app = None
    try:
        toml = make_site(work)
        xvfb, wm, display = start_display(work)
        env = dict(
            os.environ,
            DISPLAY=display,
            QT_QPA_PLATFORM="xcb",
            HOME=str(work),
            XDG_CONFIG_HOME=str(work / "config"),
            QT_LINUX_ACCESSIBILITY_ALWAYS_ON="1",  # AT-SPI: the mouse walk finds widgets
        )
        start_accessibility_bus(env)
        app = subprocess.Popen(
            [str(REPO / ".venv" / "bin" / "picsafe-desktop"), "--config", str(toml)],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=open(work / "app.stderr", "wb"),  # noqa: SIM115 - closed with the process
        )
        person = Person(display, shots)
        seconds = walk(person, runtime, args.mouse)
        app.send_signal(signal.SIGTERM)
        app.wait(timeout=30)
        outcome = check_vault(toml)
        print(f"vault: {outcome}")
        how = "mouse" if args.mouse else "keyboard"
        print(
            f"WALK ({how}) phone plugged in -> 2 consents recorded + personal photo destroyed: "
            f"{person.clicks} clicks, {person.keys} key presses (plus {person.typed} typed "
            f"characters: MRNs and names), {person.drags} signatures drawn, "
            f"0 wheel-scroll steps, {seconds:.1f} s"
        )
        print(f"screenshots in {shots}")
        return 0
    finally:
        for proc in (app, wm, xvfb):
            if proc is not None and proc.poll() is None:
                proc.terminate()
                try:
                    proc.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    proc.kill()
        # Keep only the screenshots (fictional patients): vault, config and logs go.
        for child in work.iterdir():
            if child != shots:
                shutil.rmtree(child) if child.is_dir() else child.unlink()
        if shots.parent != work:
            work.rmdir()


if __name__ == "__main__":
    raise SystemExit(main())
