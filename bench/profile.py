"""Sampling profiles (py-spy) of the targets `make bench` reports as not met, written to
bench/out/profile/: a collapsed-stack file per target (`*.txt`, flame-graph input) and a
summary (`*-top.txt`) of where the wall time goes, by function, self and total.

1. cli-import: `picsafe-desktop import --consent ...` of the corpus's 13 phone JPEGs, whole
   process, start-up included.
2. in-process: `import_paths` of --count 12-MP JPEGs on the importing thread and its workers
   (every thread, idle time included: waiting on fsync or a worker shows).
3. vault-list: `picsafe-desktop vault list --json` on bench_scale's 100,000-photo vault
   (built under bench/out on first use, about 90 s).

Run inside the test services (real keyring): `make profile` or
    scripts/with-test-services .venv/bin/python bench/profile.py [--count 60] [--only cli-import]
"""

from __future__ import annotations

import argparse
import collections
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _common as c  # noqa: E402

OUT = c.REPO / "bench" / "out" / "profile"
RATE = 250  # samples a second


def py_spy() -> str:
    tool = Path(sys.executable).with_name("py-spy")
    if not tool.is_file():
        raise SystemExit("py-spy not installed: scripts/setup --test")
    return str(tool)


def record(name: str, cmd: list[str]) -> Path:
    """Profile `cmd` (a Python process) into OUT/name.txt, all threads, idle included."""
    out = OUT / f"{name}.txt"
    subprocess.run(
        [py_spy(), "record", "--format", "raw", "--idle", "--threads", "--rate", str(RATE)]
        + ["--output", str(out), "--", *cmd],
        check=True,
        stdout=subprocess.DEVNULL,
    )
    return out


def summarise(raw: Path, top: int = 25) -> Path:
    """Self and total samples per function (file:line dropped), per thread, from the raw
    collapsed stacks: the top of the profile."""
    threads: dict[str, collections.Counter] = collections.defaultdict(collections.Counter)
    selfs: dict[str, collections.Counter] = collections.defaultdict(collections.Counter)
    counts: collections.Counter = collections.Counter()
    names: dict[str, str] = {}
    for line in raw.read_text().splitlines():
        stack, _, n = line.rpartition(" ")
        if not stack:
            continue
        frames = stack.split(";")
        # "thread (id): name" once the thread is named, "thread (id)" before: one thread.
        thread, _, name = frames[0].partition(": ")
        if name:
            names[thread] = name
        frames = [f.split(" (")[0] + _where(f) for f in frames[1:]]
        counts[thread] += int(n)
        for frame in set(frames):
            threads[thread][frame] += int(n)
        if frames:
            selfs[thread][frames[-1]] += int(n)
    lines = [f"py-spy, {RATE} samples/s, idle included; {raw.name}"]
    for thread, total in counts.most_common():
        label = f"{thread}: {names.get(thread, '')}"
        lines.append(f"\n{label}: {total} samples ({total / RATE:.2f} s)")
        lines.append("  total%  self%  function")
        for frame, n in threads[thread].most_common(top):
            s = selfs[thread][frame]
            lines.append(f"  {100 * n / total:5.1f}  {100 * s / total:5.1f}  {frame}")
        lines.append("  self%  function (where the samples land)")
        for frame, s in selfs[thread].most_common(top // 2):
            lines.append(f"  {100 * s / total:5.1f}  {frame}")
    out = raw.with_name(raw.stem + "-top.txt")
    out.write_text("\n".join(lines) + "\n")
    return out


def _where(frame: str) -> str:
    """' (module.py)' from py-spy's 'func (path/module.py:123)'."""
    if " (" not in frame:
        return ""
    path = frame.rsplit(" (", 1)[1].rstrip(")").rsplit(":", 1)[0]
    return f" ({Path(path).name})"


def cli_import(work: Path) -> list[str]:
    bases = [p.read_bytes() for p in c.corpus_files(c.PHONE_JPEGS)]
    drop = work / "cli-drop"
    c.write_copies(drop, bases, len(bases), "profile")
    vault, service = c.new_vault(work / "cli-vault")
    consent = c.consent_file(work)
    return [sys.executable, "-m", "picsafe_desktop", "import", "--consent", str(consent)] + [
        "--vault",
        str(vault),
        "--keyring-service",
        service,
        "-q",
        str(drop),
    ]


CHILD = """
import sys
sys.path.insert(0, {bench!r})
import _common as c
from pathlib import Path
from picsafe_desktop.importer.pipeline import import_paths
from picsafe_desktop.vault import Vault
work = Path({work!r})
bases = [p.read_bytes() for p in c.corpus_files(c.TWELVE_MP)]
c.write_copies(work / "ip-drop", bases, {count}, "profile")
folder, service = c.new_vault(work / "ip-vault")
with Vault.open(folder, service) as vault:
    import_paths(vault, [work / "ip-drop"], actor="bench")
"""


def in_process(work: Path, count: int) -> list[str]:
    code = CHILD.format(bench=str(Path(__file__).parent), work=str(work), count=count)
    return [sys.executable, "-c", code]


def vault_list(work: Path) -> list[str]:
    import bench_scale

    root = bench_scale.ensure_built(100_000)
    return [sys.executable, "-m", "picsafe_desktop", "vault", "list"] + [
        "--vault",
        str(root / "vault"),
        "--keyring-service",
        bench_scale.SERVICE,
        "--json",
    ]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=60, help="12-MP photos in process")
    parser.add_argument("--only", help="comma-separated: cli-import,in-process,vault-list")
    args = parser.parse_args()
    targets = {
        "cli-import": cli_import,
        "in-process": lambda work: in_process(work, args.count),
        "vault-list": vault_list,
    }
    only = args.only.split(",") if args.only else list(targets)
    OUT.mkdir(parents=True, exist_ok=True)
    subprocess.run(  # as an installed copy is (see bench_import.compile_package)
        [sys.executable, "-m", "compileall", "-q", str(c.REPO / "picsafe_desktop")], check=True
    )
    for name in only:
        work = Path(tempfile.mkdtemp(prefix="picsafe-profile-"))
        try:
            cmd = targets[name](work)
            top = summarise(record(name, cmd))
            print(f"{name}: {top.relative_to(c.REPO)}")
            print(top.read_text())
        finally:
            shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
