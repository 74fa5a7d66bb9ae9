"""`picsafe-desktop vault ...` and `audit verify`: output and exit codes (0 ok, 1 check failed,
2 usage or input error)."""

import datetime as dt
import io
import json
import os
import re
import shutil
import subprocess

import keyring
import pytest

from picsafe_desktop import cli
from picsafe_desktop.vault import PRODUCTION_KDF, Vault
from tests.unit.vault_support import db, new_vault, put_photo

pytestmark = pytest.mark.keyring
CODE = re.compile(r"^    ([0-9A-Z]{4}(?:-[0-9A-Z]{4}){5})$", re.MULTILINE)


@pytest.fixture
def run(keyring_service, capsys):
    def run(*args):
        argv = [*args]
        if "vault" in args or "audit" in args:
            argv += ["--keyring-service", keyring_service]
        code = cli.main(argv)
        out = capsys.readouterr()
        return code, out.out, out.err

    return run


@pytest.fixture
def made(tmp_path, keyring_service):
    """A vault made through the API with the cheap test KDF (only `vault init` below pays for
    the production one); returns (path, recovery code)."""
    vault, code = new_vault(tmp_path, keyring_service)
    vault.close()
    return vault.path, code


def test_init_in_the_configured_folder_with_a_recovery_sheet(tmp_path, run):
    """One real `vault init` (it pays for the production KDF): the folder comes from the site
    config, the code is printed once, stored nowhere in the vault, and put on the sheet."""
    assert shutil.which("pdftotext"), "pdftotext is needed (scripts/install-system-deps.sh --test)"
    path = tmp_path / "configured"
    config = tmp_path / "site.toml"
    config.write_text(f'[vault]\npath = "{path}"\n')
    sheet = tmp_path / "sheet.pdf"
    status, out, err = run("--config", str(config), "vault", "init", "--recovery-sheet", str(sheet))
    assert status == 0, err
    code = CODE.search(out).group(1)

    rec = json.loads((path / "vault.json").read_text())["recovery"]
    assert (rec["time_cost"], rec["memory_kib"], rec["parallelism"]) == (
        PRODUCTION_KDF.time_cost,
        PRODUCTION_KDF.memory_kib,
        PRODUCTION_KDF.parallelism,
    )
    raw = b"".join(p.read_bytes() for p in path.rglob("*") if p.is_file())
    assert code.encode() not in raw and code.replace("-", "").encode() not in raw

    text = subprocess.run(
        ["pdftotext", str(sheet), "-"], capture_output=True, text=True, check=True
    ).stdout
    assert code in text and "vault recover" in text
    assert oct(sheet.stat().st_mode & 0o777) == "0o600"

    again = run("vault", "init", "--vault", str(path))
    assert again[0] == 2 and "already holds a vault" in again[2]


def test_list_text_and_json(made, run, keyring_service):
    path, _ = made
    assert run("vault", "list", "--vault", str(path))[0] == 0
    with Vault.open(path, keyring_service) as vault:
        batch = vault.create_batch("phone", actor="t")
        items = [put_photo(vault, batch, b"x" * n) for n in (10, 20)]
    code, out, _ = run("vault", "list", "--vault", str(path), "--json")
    assert code == 0
    listed = json.loads(out)
    assert [(i["item_id"], i["size"], i["state"]) for i in listed["items"]] == [
        (items[0], 10, "awaiting_consent"),
        (items[1], 20, "awaiting_consent"),
    ]
    # Printed from the checked rows, byte for byte what json.dumps of each PhotoItem gave.
    with Vault.open(path, keyring_service, read_only=True) as vault:
        want = [
            {
                "item_id": i.item_id,
                "batch_id": i.batch_id,
                "state": i.state.value,
                "size": i.size,
                "media_type": i.media_type,
                "created_at": i.created_at.isoformat(),
                "consent_id": i.consent_id,
            }
            for i in vault.list_items()
        ]
    rows = ",\n".join("    " + json.dumps(w) for w in want)
    assert (
        out
        == f'{{\n  "vault_id": {json.dumps(listed["vault_id"])},\n  "items": [\n{rows}\n  ]\n}}\n'
    )
    code, out, _ = run("vault", "list", "--vault", str(path))
    assert code == 0 and items[0] in out and "2 item(s)" in out


def test_list_json_dates_are_what_isoformat_gives():
    from picsafe_desktop.vault.commands import _iso

    for text in (
        "2026-12-01T05:06:07.123456+00:00",
        "2026-12-01T05:06:07.000000+00:00",  # isoformat() drops zero microseconds
        "2026-12-01T05:06:07+00:00",
        "2026-12-01 05:06:07.100000+00:00",
    ):
        assert _iso(text) == dt.datetime.fromisoformat(text).isoformat()


def test_verify_exit_codes(made, run, keyring_service):
    path, _ = made
    with Vault.open(path, keyring_service) as vault:
        item = put_photo(vault, vault.create_batch("p", actor="t"), b"y" * 1000)
    code, out, _ = run("vault", "verify", "--vault", str(path))
    assert (code, out.strip()) == (
        0,
        "ok: 1 item(s) decrypted and authenticated; state and anchor match",
    )
    blob = path / "blobs" / item[:2] / f"{item}.psv"
    raw = bytearray(blob.read_bytes())
    raw[-3] ^= 1
    blob.write_bytes(raw)
    code, _, err = run("vault", "verify", "--vault", str(path))
    assert code == 1 and f"item {item}" in err and "1 problem(s)" in err


def test_audit_verify_exit_codes(made, run, keyring_service):
    path, _ = made
    with Vault.open(path, keyring_service) as vault:
        for n in range(3):
            vault.audit("view", actor="t", subject=f"s{n}")
    assert run("audit", "verify", "--vault", str(path))[:2] == (
        0,
        "ok: 4 audit row(s), chain intact\n",
    )
    with db(path) as conn:
        conn.execute("DELETE FROM audit WHERE seq = 2")
    code, _, err = run("audit", "verify", "--vault", str(path))
    assert code == 1 and "audit row(s) 2 removed" in err


def test_recover_from_stdin(made, run, keyring_service, monkeypatch):
    path, recovery = made
    vault_id = json.loads((path / "vault.json").read_text())["vault_id"]
    keyring.delete_password(keyring_service, vault_id)
    code, _, err = run("vault", "list", "--vault", str(path))
    assert code == 2 and "vault recover" in err
    monkeypatch.setattr("sys.stdin", io.StringIO("0000-0000-0000-0000-0000-0000\n"))
    code, _, err = run("vault", "recover", "--vault", str(path))
    assert code == 2 and "does not unlock vault" in err
    assert keyring.get_password(keyring_service, vault_id) is None
    monkeypatch.setattr("sys.stdin", io.StringIO(recovery.lower() + "\n"))
    code, out, _ = run("vault", "recover", "--vault", str(path))
    assert code == 0 and "back in the OS keyring" in out
    assert run("vault", "list", "--vault", str(path))[0] == 0


def test_input_errors_exit_2_and_name_the_folder(tmp_path, run):
    code, _, err = run("vault", "list", "--vault", str(tmp_path / "missing"))
    assert code == 2 and str(tmp_path / "missing") in err and "vault init" in err
    with pytest.raises(SystemExit) as caught:
        cli.main(["vault"])
    assert caught.value.code == 2


def test_init_with_a_sheet_in_a_missing_folder_creates_nothing(tmp_path, run):
    """Was a traceback after the vault had been created."""
    vault_dir = tmp_path / "vault"
    status, out, err = run(
        "vault",
        "init",
        "--vault",
        str(vault_dir),
        "--recovery-sheet",
        str(tmp_path / "no" / "s.pdf"),
    )
    assert status == 2 and out == ""
    assert f"{tmp_path / 'no'}: folder does not exist" in err and "no vault was created" in err
    assert not vault_dir.exists()


def test_init_when_the_sheet_cannot_be_written_keeps_the_code_on_screen(tmp_path, run):
    """A full drive for the sheet: the vault exists and its code was printed, so say so; no
    half-written sheet (it would hold part of the code) is left behind."""
    if os.geteuid() != 0:
        pytest.skip("mounting a tmpfs needs root")
    drive = tmp_path / "usb"
    drive.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=4k", "tmpfs", str(drive)]).returncode:
        pytest.skip("cannot mount a tmpfs")
    try:
        (drive / "filler").write_bytes(b"x" * 4096)  # the drive is now full
        status, out, err = run(
            "vault",
            "init",
            "--vault",
            str(tmp_path / "v"),
            "--recovery-sheet",
            str(drive / "s.pdf"),
        )
        assert sorted(p.name for p in drive.iterdir()) == ["filler"]
    finally:
        subprocess.run(["umount", str(drive)], check=True)
    assert status == 1 and "Traceback" not in err
    assert CODE.search(out) and (tmp_path / "v" / "vault.json").is_file()
    assert f"{drive / 's.pdf'}: the recovery sheet could not be written" in err
    assert "write down the recovery code shown above" in err
