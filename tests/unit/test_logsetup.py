import logging

from picsafe_desktop import config, logsetup


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
    assert (path.stat().st_mode & 0o777) == 0o600
