#!/usr/bin/env bash
# Checks the packages scripts/package.sh built: their metadata and contents (dpkg-deb),
# Debian's policy checks (lintian: no errors), an install into a throwaway root with dpkg, both
# binaries answering --version from there, the relay's config file marked as a conffile, and
# its systemd unit (systemd-analyze verify). Never touches the machine's own dpkg database.
set -euo pipefail
cd "$(dirname "$0")/.."
version=$(sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -n 1)
target=${CARGO_TARGET_DIR:-target}
console=$target/debian/linedesk_${version}-1_amd64.deb
relay=$target/debian/linedesk-relay_${version}-1_amd64.deb
for deb in "$console" "$relay"; do
  [ -f "$deb" ] || { echo "check-packages: $deb is missing: run scripts/package.sh" >&2; exit 1; }
done

echo "== dpkg-deb"
for deb in "$console" "$relay"; do
  dpkg-deb --info "$deb"
  dpkg-deb --contents "$deb"
done
grep -q 'libwebkit2gtk-4.1-0' <<<"$(dpkg-deb --field "$console" Depends)" ||
  { echo "check-packages: the console does not depend on WebKitGTK" >&2; exit 1; }
console_files=$(dpkg-deb --contents "$console")
relay_files=$(dpkg-deb --contents "$relay")
for path in ./usr/bin/linedesk ./usr/share/applications/app.linedesk.console.desktop \
  ./usr/share/metainfo/app.linedesk.console.metainfo.xml \
  ./usr/share/icons/hicolor/256x256/apps/linedesk.png; do
  grep -q " $path\$" <<<"$console_files" || { echo "check-packages: the console lacks $path" >&2; exit 1; }
done
for path in ./usr/bin/linedesk-relay ./etc/linedesk/relay.toml \
  ./usr/lib/systemd/system/linedesk-relay.service; do
  grep -q " $path\$" <<<"$relay_files" || { echo "check-packages: the relay lacks $path" >&2; exit 1; }
done

echo "== lintian (errors fail; warnings are listed)"
lintian --fail-on error --tag-display-limit 0 "$console" "$relay"

echo "== install into a throwaway root"
root=$(mktemp -d "${TMPDIR:-/tmp}/linedesk-root.XXXXXX")
trap 'rm -rf "$root"' EXIT
mkdir -p "$root/var/lib/dpkg/info" "$root/var/lib/dpkg/updates"
touch "$root/var/lib/dpkg/status"
# The root holds no libraries (the machine's are used to run the binaries), so dependencies
# are not checked here; maintainer scripts run outside a chroot with DPKG_ROOT set, as for
# an image being built, and leave the machine's systemd alone.
dpkg --root="$root" --force-not-root --force-depends --force-script-chrootless \
  --log=/dev/null -i "$console" "$relay"
dpkg --root="$root" -s linedesk linedesk-relay | grep -E '^(Package|Status|Version):'
grep -q '^ /etc/linedesk/relay.toml [0-9a-f]\{32\}$' <<<"$(dpkg --root="$root" -s linedesk-relay)" ||
  { echo "check-packages: /etc/linedesk/relay.toml is not a conffile" >&2; exit 1; }
"$root/usr/bin/linedesk-relay" --version
"$root/usr/bin/linedesk" --version
# The installed relay's first start with the packaged settings (the data directory moved into
# the root): it makes its key, readable by its user only.
state="$root/var/lib/linedesk-relay"
sed "s|^data = .*|data = \"$state\"|; s|^listen = .*|listen = \"127.0.0.1:0\"|" \
  "$root/etc/linedesk/relay.toml" >"$root/relay-check.toml"
"$root/usr/bin/linedesk-relay" serve --config "$root/relay-check.toml" >"$root/relay.out" 2>&1 &
relay_pid=$!
for _ in $(seq 1 200); do
  grep -q '^listening on' "$root/relay.out" && break
  sleep 0.1
done
kill "$relay_pid"
wait "$relay_pid" || true
grep -q '^listening on' "$root/relay.out" || { cat "$root/relay.out" >&2; exit 1; }
[ "$(stat -c %a "$state/relay.key")" = 600 ] ||
  { echo "check-packages: the relay key is not 0600" >&2; exit 1; }
[ "$(stat -c %a "$state")" = 700 ] ||
  { echo "check-packages: the relay's data directory is not 0700" >&2; exit 1; }
echo "the installed relay started and made its key (0600) in a 0700 directory"

echo "== systemd unit"
# verify resolves the unit's dependencies (sysinit.target, …) inside the root: lend it the
# machine's own units, without replacing the package's.
cp -an /usr/lib/systemd/system/. "$root/usr/lib/systemd/system/"
systemd-analyze verify --root="$root" /usr/lib/systemd/system/linedesk-relay.service
echo "== the demo from the installed console"
# Under its own virtual display and session bus (with a throwaway keyring), as a user would
# start it; the screenshot is for a person to look at: a chat request should be on it.
mkdir -p target/screenshots "$root/home/.cache"
shot=$PWD/target/screenshots/package-demo.png
LINEDESK_DATA_DIR="$root/home/.local/share/linedesk" HOME="$root/home" \
  timeout 120 xvfb-run -a -s "-screen 0 1280x800x24 -noreset" dbus-run-session -- \
  ./scripts/with-keyring.sh bash -c '
    "$1" --demo >"$2/demo.log" 2>&1 &
    app=$!
    for _ in $(seq 1 300); do
      xdotool search --name "^linedesk$" >/dev/null 2>&1 && break
      sleep 0.1
    done
    # The demo'"'"'s customers start writing within seconds of the window.
    sleep 8
    import -window root "$3"
    kill "$app"
  ' _ "$root/usr/bin/linedesk" "$root" "$shot" 2>"$root/session.log" ||
  { cat "$root/session.log" "$root/demo.log" >&2; exit 1; }
echo "screenshot: $shot"
echo "check-packages: ok"
