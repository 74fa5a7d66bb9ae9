#!/usr/bin/env bash
# The one-folder bundle: a clean venv in build/venv from the locked set (versions and hashes
# checked by pip), PicSafe installed into it (not editable), then PyInstaller with the spec.
#   installer/build-bundle.sh        -> dist/picsafe-desktop/
set -euo pipefail
cd "$(dirname "$0")/.."
py="${PYTHON:-python3}"
venv=build/venv
[ -x "$venv/bin/python" ] || "$py" -m venv "$venv"
pip=("$venv/bin/python" -m pip install --disable-pip-version-check --quiet --no-input)
export PIP_CONSTRAINT=""  # the lock is the whole truth
"${pip[@]}" --require-hashes -r requirements/build.txt
"${pip[@]}" --require-hashes --only-binary :all: -r requirements/bundle.txt
"${pip[@]}" --no-deps --no-build-isolation --force-reinstall .
rm -rf dist/picsafe-desktop
"$venv/bin/pyinstaller" --noconfirm --log-level WARN --distpath dist \
  --workpath build/pyinstaller installer/picsafe-desktop.spec
echo "bundle: dist/picsafe-desktop ($(du -sh dist/picsafe-desktop | cut -f1))" >&2
