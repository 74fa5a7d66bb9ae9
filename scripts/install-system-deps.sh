#!/usr/bin/env bash
# Installs the Debian packages the app and its test suite use. Idempotent: does nothing
# when every package is already present. Runs apt-get as root, or through sudo.
#   scripts/install-system-deps.sh [--test|--build]   (--build: what `make installer` needs)
set -euo pipefail

# Runtime: Qt's xcb platform plugin needs these X/GL libraries on a bare Debian.
RUNTIME=(libgl1 libegl1 libxkbcommon0 libxkbcommon-x11-0 libxcb-cursor0 libxcb-icccm4
         libxcb-keysyms1 libxcb-image0 libxcb-render-util0 libxcb-shape0 libxcb-xinerama0
         libxcb-randr0 libxcb-xfixes0 libxcb-xkb1 libfontconfig1 libdbus-1-3 fonts-dejavu-core
         libjpeg-turbo-progs fonts-droid-fallback)
# libjpeg-turbo-progs: jpegtran turns EXIF-rotated photos upright for DICOM, losslessly.
# fonts-droid-fallback: the PDF prints Chinese/Japanese/Korean letters of names with it
# (DejaVu Sans has none; without such a font the PDF export refuses those names).
# Tests: virtual display, a real Secret Service keyring, and the independent checkers/peers.
TEST=(xvfb xauth x11-utils dbus dbus-x11 gnome-keyring libimage-exiftool-perl age orthanc orthanc-dicomweb
      dicom3tools dcmtk qpdf poppler-utils slapd ldap-utils
      default-jre-headless libpdfbox2-java libactivation-java libjaxb-api-java
      rsyslog rsyslog-gnutls orthanc-postgresql postgresql eatmydata openbox xdotool imagemagick
      python3-pyatspi libgs-common)
# libgs-common: a CMYK ICC profile for the CMYK-with-profile DICOM colour test.
# openbox, xdotool, imagemagick, python3-pyatspi: the measured mouse-and-keyboard walk
# (bench/walk_journey.py; AT-SPI finds widgets by accessible name).
# rsyslog(-gnutls): the ATNA audit tests' syslog receiver over TLS; orthanc-postgresql and
# postgresql: the 200-PC load test (bench/site_load.py, not CI).
# PDFBox Preflight (libpdfbox2-java + the two APIs it needs on Java 11+) checks the PDF/A
# reports: veraPDF is not packaged for Debian. eatmydata only speeds up building the
# benchmark vaults of bench/bench_scale.py (never used for a real vault).
# The FHIR export tests run Medplum's FHIR engine (tests/fhir_engine) on Node.js 20+.
command -v node >/dev/null 2>&1 && command -v npm >/dev/null 2>&1 || TEST+=(nodejs npm)
# `make installer`: the .deb is built with dpkg-deb and checked with lintian.
BUILD=(dpkg-dev lintian binutils patchelf)

want=("${RUNTIME[@]}")
# A bare Debian/Ubuntu python3 cannot make a venv without this package.
python3 -c 'import ensurepip, venv' 2>/dev/null || want+=(python3-venv python3-pip)
case "${1:-}" in
  --test) want+=("${TEST[@]}") ;;
  --build) want+=("${BUILD[@]}") ;;
esac

missing=()
for p in "${want[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
echo "Installing system packages: ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive

# Another installer (unattended-upgrades, a software centre, a second set-up) may hold the dpkg
# lock: wait for it instead of failing. apt >= 1.9.11 waits by itself (DPkg::Lock::Timeout);
# older apt fails at once with "Could not get lock", so retry that too, for up to
# LOCK_WAIT_SECONDS (default 15 minutes).
wait_total="${LOCK_WAIT_SECONDS:-900}"
apt_get() {
  local waited=0 err
  err="$(mktemp)"
  while true; do
    if $SUDO apt-get -o DPkg::Lock::Timeout="$wait_total" "$@" 2>"$err"; then
      rm -f "$err"; return 0
    fi
    if ! grep -q "Could not get lock\|Unable to acquire the dpkg frontend lock\|Unable to lock directory" "$err" \
        || [ "$waited" -ge "$wait_total" ]; then
      cat "$err" >&2; rm -f "$err"; return 1
    fi
    [ "$waited" -eq 0 ] && echo "Waiting for another package installer to finish..." >&2
    sleep "${LOCK_RETRY_SECONDS:-5}"
    waited=$((waited + ${LOCK_RETRY_SECONDS:-5}))
  done
}
apt_get update -qq
# Orthanc's package starts a system service; our tests run their own throwaway instance.
apt_get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
if command -v systemctl >/dev/null 2>&1 && systemctl is-active --quiet orthanc 2>/dev/null; then
  $SUDO systemctl stop orthanc || true
fi
# Likewise slapd: the directory tests start their own throwaway slapd on a loopback port.
if command -v systemctl >/dev/null 2>&1 && systemctl is-active --quiet slapd 2>/dev/null; then
  $SUDO systemctl stop slapd || true
fi
