#!/usr/bin/env bash
# Builds dist/picsafe-desktop_<version>_<arch>.deb from the one-folder bundle in
# dist/picsafe-desktop (made by PyInstaller), then runs lintian on it.
#   installer/linux/build-deb.sh            (`make installer` runs it after PyInstaller)
# Layout: the bundle in /opt/picsafe-desktop, the command /usr/bin/picsafe-desktop, menu entry,
# icon, AppStream metainfo, man page, and /etc/xdg/picsafe-desktop/ for the site config.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
bundle="$root/dist/picsafe-desktop"
[ -x "$bundle/picsafe-desktop" ] || { echo "no bundle at $bundle: run make installer" >&2; exit 2; }
version="$("$bundle/picsafe-desktop" --version | awk '{print $2}')"
arch="$(dpkg --print-architecture)"
pkg="$root/build/deb/picsafe-desktop"
rm -rf "$pkg" && mkdir -p "$pkg/DEBIAN"
here="$root/installer/linux"

install -d "$pkg/opt"
cp -a "$bundle" "$pkg/opt/picsafe-desktop"
# Files PyInstaller copies keep the mode they had; the package wants 644/755 only.
find "$pkg/opt" -type d -exec chmod 755 {} +
find "$pkg/opt" -type f -exec chmod go-w {} +
# Debian ships DejaVu: use the system's copy (Depends: fonts-dejavu-core) instead of a duplicate.
fonts="$pkg/opt/picsafe-desktop/_internal/picsafe_desktop/resources/fonts"
for font in DejaVuSans.ttf DejaVuSans-Bold.ttf; do
  ln -sf "/usr/share/fonts/truetype/dejavu/$font" "$fonts/$font"
done
# Strip symbols from shared objects as dh_strip would (the CPython modules and libpython come
# unstripped). Not the executable: PyInstaller appends its archive after the ELF image.
find "$pkg/opt/picsafe-desktop/_internal" -type f \( -name "*.so" -o -name "*.so.*" \) \
  -exec strip --strip-unneeded --remove-section=.comment --remove-section=.note {} + 2>/dev/null || true
# Shared objects need no execute bit; a RUNPATH naming the build machine's Python (pyenv) is
# removed - the bundle's loader finds every library in _internal by soname.
find "$pkg/opt/picsafe-desktop/_internal" -type f \( -name "*.so" -o -name "*.so.*" \) -print0 |
  while IFS= read -r -d '' lib; do
    chmod 644 "$lib"
    case "$(patchelf --print-rpath "$lib" 2>/dev/null)" in
      /*) patchelf --remove-rpath "$lib" ;;
    esac
  done
install -d "$pkg/usr/bin"
ln -s /opt/picsafe-desktop/picsafe-desktop "$pkg/usr/bin/picsafe-desktop"
install -Dm644 "$root/resources/picsafe-desktop.desktop" \
  "$pkg/usr/share/applications/picsafe-desktop.desktop"
install -Dm644 "$root/resources/picsafe-desktop.svg" \
  "$pkg/usr/share/icons/hicolor/scalable/apps/picsafe-desktop.svg"
install -Dm644 "$here/example.invalid.picsafe.PicSafeDesktop.metainfo.xml" \
  "$pkg/usr/share/metainfo/example.invalid.picsafe.PicSafeDesktop.metainfo.xml"
install -d "$pkg/usr/share/man/man1"
gzip -9n < "$here/picsafe-desktop.1" > "$pkg/usr/share/man/man1/picsafe-desktop.1.gz"
chmod 644 "$pkg/usr/share/man/man1/picsafe-desktop.1.gz"
install -Dm644 "$here/site-config-readme.txt" "$pkg/etc/xdg/picsafe-desktop/README"
install -Dm644 "$here/copyright" "$pkg/usr/share/doc/picsafe-desktop/copyright"
sed "s/@VERSION@/$version/; s/@DATE@/$(date -uR -d @"${SOURCE_DATE_EPOCH:-$(git -C "$root" log -1 --format=%ct)}")/" \
  "$here/changelog" | gzip -9n > "$pkg/usr/share/doc/picsafe-desktop/changelog.gz"
chmod 644 "$pkg/usr/share/doc/picsafe-desktop/changelog.gz"
install -Dm644 "$here/lintian-overrides" "$pkg/usr/share/lintian/overrides/picsafe-desktop"

echo "/etc/xdg/picsafe-desktop/README" > "$pkg/DEBIAN/conffiles"
size="$(du -sk --exclude=DEBIAN "$pkg" | cut -f1)"
sed "s/@VERSION@/$version/; s/@ARCH@/$arch/; s/@SIZE@/$size/" "$here/control" > "$pkg/DEBIAN/control"

out="$root/dist/picsafe-desktop_${version}_${arch}.deb"
dpkg-deb --root-owner-group -Zxz --build "$pkg" "$out" >/dev/null
echo "built $out" >&2
if command -v lintian >/dev/null; then
  # Findings the package cannot avoid are overridden with the reason (lintian-overrides);
  # everything else fails the build.
  lintian --fail-on error,warning "$out"
fi
