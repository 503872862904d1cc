#!/usr/bin/env bash
# Builds the Debian package: dist/zkswiftd_<version>_<arch>.deb, with
# /usr/bin/zkswiftd and /usr/bin/zkswift (release builds with the Swift
# runtime linked in, so the package needs only Debian's own libraries), the
# systemd unit, /etc/zkswiftd/zoo.cfg as a conffile, man pages and the
# maintainer scripts in packaging/. Prints the package's path last.
#   scripts/build-deb.sh                  build the binaries, then the package
#   ZKSWIFTD_DEB_BINDIR=DIR scripts/build-deb.sh   package DIR's zkswiftd and zkswift
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/deps.sh
ensure_apt "${BUILD_DEPS[@]}" dpkg-dev binutils

version=$(sed -n 's/.*static let zkswiftd = "\(.*\)".*/\1/p' Sources/ZKServer/Version.swift)
arch=$(dpkg --print-architecture)
bindir=${ZKSWIFTD_DEB_BINDIR:-}
if [ -z "$bindir" ]; then
  echo "== swift build -c release --static-swift-stdlib (zkswiftd, zkswift)" >&2
  swift build -c release --static-swift-stdlib --scratch-path .build-deb --product zkswiftd >&2
  swift build -c release --static-swift-stdlib --scratch-path .build-deb --product zkswift >&2
  bindir=.build-deb/release
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
root=$work/root
pkg=packaging/debian
install -d -m 0755 "$root/DEBIAN" "$root/usr/bin" "$root/etc/zkswiftd" "$root/lib/systemd/system" \
  "$root/usr/share/man/man8" "$root/usr/share/man/man1" "$root/usr/share/doc/zkswiftd/examples"
for b in zkswiftd zkswift; do
  install -m 0755 "$bindir/$b" "$root/usr/bin/$b"
  strip --strip-unneeded --remove-section=.comment --remove-section=.note "$root/usr/bin/$b"
done
install -m 0644 packaging/zoo.cfg "$root/etc/zkswiftd/zoo.cfg"
install -m 0644 packaging/zkswiftd.service "$root/lib/systemd/system/zkswiftd.service"
gzip -9n <"$pkg/zkswiftd.8" >"$root/usr/share/man/man8/zkswiftd.8.gz"
gzip -9n <"$pkg/zkswift.1" >"$root/usr/share/man/man1/zkswift.1.gz"
install -m 0644 "$pkg/copyright" "$root/usr/share/doc/zkswiftd/copyright"
sed "s/@VERSION@/$version/" "$pkg/changelog" | gzip -9n >"$root/usr/share/doc/zkswiftd/changelog.gz"
install -m 0644 conf/zoo-3node.cfg conf/zoo-5node-observer.cfg "$root/usr/share/doc/zkswiftd/examples/"
chmod 0644 "$root"/usr/share/man/*/*.gz "$root/usr/share/doc/zkswiftd/changelog.gz"
install -m 0644 "$pkg/conffiles" "$root/DEBIAN/conffiles"
install -m 0755 "$pkg/postinst" "$pkg/prerm" "$pkg/postrm" "$root/DEBIAN/"

# Dependencies from the libraries the binaries link (dpkg-shlibdeps wants a debian/control).
mkdir -p "$work/src/debian"
printf 'Source: zkswiftd\n\nPackage: zkswiftd\nArchitecture: any\n' >"$work/src/debian/control"
depends=$(cd "$work/src" && dpkg-shlibdeps -O "$root/usr/bin/zkswiftd" "$root/usr/bin/zkswift" 2>/dev/null \
  | sed -n 's/^shlibs:Depends=//p')
size=$(du -sk --exclude=DEBIAN "$root" | cut -f1)
sed -e "s/@VERSION@/$version/" -e "s/@ARCH@/$arch/" -e "s/@SIZE@/$size/" -e "s/@DEPENDS@/$depends/" \
  "$pkg/control.in" >"$root/DEBIAN/control"
(cd "$root" && find usr lib etc -type f ! -path 'etc/*' -exec md5sum {} + | sort -k2 >DEBIAN/md5sums)
chmod 0644 "$root/DEBIAN/md5sums" "$root/DEBIAN/control"

mkdir -p dist
out="dist/zkswiftd_${version}_${arch}.deb"
dpkg-deb --root-owner-group -Zxz --build "$root" "$out" >&2
echo "$PWD/$out"
