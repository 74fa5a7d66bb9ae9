from pathlib import Path

import pytest

from picsafe_desktop import config


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_no_file_means_defaults(monkeypatch, tmp_path):
    monkeypatch.setattr(config, "default_config_path", lambda: tmp_path / "absent.toml")
    site = config.load()
    assert site.source is None
    assert site.security.idle_lock_minutes == 5
    assert Path(site.vault.path).name == "vault"
    assert getattr(site, "import").drop_folders == []


def test_env_var_selects_file(monkeypatch, tmp_path):
    path = write(tmp_path, "[security]\nidle_lock_minutes = 2\n[import]\ndrop_folders=['~/drop']\n")
    monkeypatch.setenv(config.ENV_VAR, str(path))
    site = config.load()
    assert site.source == path
    assert site.security.idle_lock_minutes == 2
    assert getattr(site, "import").drop_folders == [str(Path("~/drop").expanduser())]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("[security]\nidle_lock_minutes = 'five'\n", "'security.idle_lock_minutes' must be int"),
        ("[security]\nidle_lock_minutes = 0\n", "must be at least 1"),
        ("[security]\nrequire_pin = 1\n", "'security.require_pin' must be bool"),
        ("[security]\nidle_lock_minute = 3\n", "unknown key 'security.idle_lock_minute'"),
        ("[secrity]\n", "unknown section [secrity]"),
        ("[logging]\nlevel = 'LOUD'\n", "must be one of DEBUG"),
        ("[import]\ndrop_folders = [1]\n", "list of folder paths"),
        ("[security\n", "not valid TOML"),
    ],
)
def test_errors_name_file_and_key(tmp_path, text, expected):
    path = write(tmp_path, text)
    with pytest.raises(config.ConfigError) as err:
        config.load(path)
    assert expected in str(err.value)
    assert str(path) in str(err.value)


def test_explicit_missing_file_is_an_error(tmp_path):
    with pytest.raises(config.ConfigError, match="config file not found"):
        config.load(tmp_path / "nope.toml")


def test_every_key_is_documented():
    doc = (Path(__file__).resolve().parents[2] / "docs" / "configuration.md").read_text()
    for section, keys in config.SCHEMA.items():
        assert f"[{section}]" in doc
        for key in keys:
            assert f"`{key}`" in doc, f"{section}.{key} is not in docs/configuration.md"
