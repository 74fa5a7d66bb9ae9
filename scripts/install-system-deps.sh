#!/usr/bin/env bash
# Installs the Debian packages the app and its test suite use. Idempotent: does nothing
# when every package is already present. Runs apt-get as root, or through sudo.
set -euo pipefail

# Runtime: Qt's xcb platform plugin needs these X/GL libraries on a bare Debian.
RUNTIME=(libgl1 libegl1 libxkbcommon0 libxkbcommon-x11-0 libxcb-cursor0 libxcb-icccm4
         libxcb-keysyms1 libxcb-image0 libxcb-render-util0 libxcb-shape0 libxcb-xinerama0
         libxcb-randr0 libxcb-xfixes0 libxcb-xkb1 libfontconfig1 libdbus-1-3 fonts-dejavu-core
         libjpeg-turbo-progs)
# libjpeg-turbo-progs: jpegtran turns EXIF-rotated photos upright for DICOM, losslessly.
# Tests: virtual display, a real Secret Service keyring, and the independent checkers/peers.
TEST=(xvfb xauth x11-utils dbus dbus-x11 gnome-keyring libimage-exiftool-perl age orthanc
      dicom3tools dcmtk qpdf poppler-utils slapd ldap-utils
      default-jre-headless libpdfbox2-java libactivation-java libjaxb-api-java)
# PDFBox Preflight (libpdfbox2-java + the two APIs it needs on Java 11+) checks the PDF/A
# reports: veraPDF is not packaged for Debian.
# The FHIR export tests run Medplum's FHIR engine (tests/fhir_engine) on Node.js 20+.
command -v node >/dev/null 2>&1 && command -v npm >/dev/null 2>&1 || TEST+=(nodejs npm)

want=("${RUNTIME[@]}")
# A bare Debian/Ubuntu python3 cannot make a venv without this package.
python3 -c 'import ensurepip, venv' 2>/dev/null || want+=(python3-venv python3-pip)
if [ "${1:-}" = "--test" ]; then want+=("${TEST[@]}"); fi

missing=()
for p in "${want[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
echo "Installing system packages: ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
# Orthanc's package starts a system service; our tests run their own throwaway instance.
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
if command -v systemctl >/dev/null 2>&1 && systemctl is-active --quiet orthanc 2>/dev/null; then
  $SUDO systemctl stop orthanc || true
fi
# Likewise slapd: the directory tests start their own throwaway slapd on a loopback port.
if command -v systemctl >/dev/null 2>&1 && systemctl is-active --quiet slapd 2>/dev/null; then
  $SUDO systemctl stop slapd || true
fi
