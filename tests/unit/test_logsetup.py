import logging
import subprocess
import sys
import textwrap

from picsafe_desktop import config, logsetup
from tests.platform_marks import ON_WINDOWS


def test_registered_values_and_file_names_never_reach_the_log(tmp_path):
    site = config.from_dict({"logging": {"file": str(tmp_path / "logs" / "app.log")}})
    path = logsetup.configure(site, verbose=True)
    try:
        logsetup.register_sensitive("Zebediah Quartermaine", "MRN-0042-77")
        log = logging.getLogger("picsafe_desktop.test")
        log.info("imported photo for zebediah quartermaine (MRN-0042-77)")
        log.warning("cannot read /home/nurse/Drop/Quartermaine wound.jpg")
        try:
            raise ValueError("bad file /tmp/MRN-0042-77.heic")
        except ValueError:
            log.exception("import failed")
        for handler in logging.getLogger().handlers:
            handler.flush()
        text = path.read_text()
    finally:
        logsetup._sensitive.clear()
    assert "imported photo for [redacted]" in text
    assert "<file.jpg>" in text and "<file.heic>" in text
    for leak in ("Zebediah", "Quartermaine", "0042-77", "wound"):
        assert leak.lower() not in text.lower()
    assert "ValueError" in text  # the traceback is kept for IT, minus the values
    if not ON_WINDOWS:  # Windows has no mode bits (the folder's ACL decides); the rest holds
        assert (path.stat().st_mode & 0o777) == 0o600


def test_an_uncaught_exception_is_logged_redacted_not_printed_raw(tmp_path):
    """Python prints an uncaught exception's message as it is, to a stderr the desktop session
    keeps on disk; after configure() it goes through the PHI filter (file and stderr)."""
    log_file = tmp_path / "app.log"
    program = textwrap.dedent(f"""
        import threading
        from picsafe_desktop import config, logsetup
        logsetup.configure(config.from_dict({{"logging": {{"file": {str(log_file)!r}}}}}))
        def worker():
            raise OSError("cannot read /home/nurse/Drop/Quartermaine thread.jpg")
        t = threading.Thread(target=worker, name="scan")
        t.start()
        t.join()
        raise RuntimeError("cannot open /home/nurse/Drop/Quartermaine wound.jpg")
    """)
    done = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True)
    assert done.returncode == 1
    text = log_file.read_text()
    for output in (done.stderr, text):
        assert "Quartermaine" not in output
        assert "RuntimeError: cannot open <file.jpg>" in output
        assert "OSError: cannot read <file.jpg>" in output and "in thread scan" in output


def test_a_failing_command_exits_1_with_a_redacted_report(tmp_path, monkeypatch, capsys):
    """A bug in a command (here: the scrubber failing in an unforeseen way) gives exit 1 and
    a pointer to the log, never a raw traceback naming the patient's file."""
    from picsafe_desktop import cli
    from picsafe_desktop.deid import commands

    def broken(data):
        raise RuntimeError("unexpected failure in /home/nurse/Drop/Quartermaine wound.jpg")

    monkeypatch.setattr(commands, "scrub", broken)
    photo = tmp_path / "Quartermaine wound.jpg"
    photo.write_bytes(b"\xff\xd8\xff\xd9")
    config_file = tmp_path / "site.toml"
    config_file.write_text(f'[logging]\nfile = "{tmp_path / "app.log"}"\n')
    status = cli.main(["--config", str(config_file), "scrub", str(photo), str(tmp_path / "o.jpg")])
    for handler in logging.getLogger().handlers:
        handler.flush()
    err = capsys.readouterr().err
    assert status == 1
    assert "stopped by an unexpected error" in err and str(tmp_path / "app.log") in err
    text = (tmp_path / "app.log").read_text()
    assert "RuntimeError: unexpected failure in <file.jpg>" in text
    assert "Quartermaine" not in err + text


def test_quoted_folders_and_video_names_are_blanked_but_code_paths_kept():
    text = logsetup.redact(
        "[Errno 2] No such file or directory: '/media/drop/Ada Lovelace'\n"
        "cannot read /home/n/clip of Ada.MOV and C:\\Drop\\Ada scan.docx\n"
        '  File "/opt/app/picsafe_desktop/importer/files.py", line 3, in read'
    )
    assert "Ada" not in text
    assert "'<path>'" in text and "<file.MOV>" in text and "<file.docx>" in text
    assert '"/opt/app/picsafe_desktop/importer/files.py"' in text
