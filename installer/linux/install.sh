#!/usr/bin/env bash
# Installs PicSafe Desktop for all users of a Debian/Ubuntu ward PC from a checkout, without a
# .deb: a virtual environment in /opt/picsafe-desktop from the locked dependency set (versions
# and hashes checked by pip), the command in /usr/local/bin, and the menu entry.
# Prefer the .deb (`make installer`, docs/deployment.md); this is for machines that build locally.
# Run as root from a checkout: installer/linux/install.sh
set -euo pipefail
src="$(cd "$(dirname "$0")/../.." && pwd)"
prefix="${PREFIX:-/opt/picsafe-desktop}"
"$src/scripts/install-system-deps.sh"
python3 -m venv "$prefix"
pip=("$prefix/bin/python" -m pip install --disable-pip-version-check -q --no-input)
export PIP_CONSTRAINT=""  # the lock is the whole truth
"${pip[@]}" --require-hashes -r "$src/requirements/build.txt"
"${pip[@]}" --require-hashes --only-binary :all: -r "$src/requirements/app.txt"
"${pip[@]}" --no-deps --no-build-isolation "$src"
ln -sf "$prefix/bin/picsafe-desktop" /usr/local/bin/picsafe-desktop
install -Dm644 "$src/resources/picsafe-desktop.desktop" /usr/share/applications/picsafe-desktop.desktop
install -Dm644 "$src/resources/picsafe-desktop.svg" \
  /usr/share/icons/hicolor/scalable/apps/picsafe-desktop.svg
install -d -m 755 /etc/xdg/picsafe-desktop
echo "Installed. Site configuration goes in /etc/xdg/picsafe-desktop/config.toml (docs/configuration.md)."
