#!/usr/bin/env bash
# Builds the release packages with cargo-deb, into target/debian/ (or $CARGO_TARGET_DIR/debian/):
#   linedesk_<version>_amd64.deb        the console (/usr/bin/linedesk, desktop entry, icons,
#                                       AppStream metadata; WebKitGTK as dependencies)
#   linedesk-relay_<version>_amd64.deb  the relay, its systemd unit and /etc/linedesk/relay.toml
# Safe to run twice. AppImage is not built: its tooling is downloaded at build time, which
# this project's build machines cannot do.
#
# LINEDESK_PACKAGE_PROFILE=dev packs the debug binaries the test command has already built
# (stripped) instead of building the release profile: the test command checks the packaging
# that way, because a cold release build adds about 10 minutes to a CI run.
set -euo pipefail
cd "$(dirname "$0")/.."
target=${CARGO_TARGET_DIR:-target}
. scripts/setup.sh
linedesk_setup
command -v cargo-deb >/dev/null || cargo install cargo-deb --locked --version '^3.8'
LINEDESK_COMMIT=${LINEDESK_COMMIT:-$(git rev-parse --short=12 HEAD 2>/dev/null || echo unknown)}
export LINEDESK_COMMIT
profile=${LINEDESK_PACKAGE_PROFILE:-release}
started=$(date +%s)
case $profile in
  release)
    cargo build --locked --release -p linedesk-relay -p linedesk
    dir=$target/release
    deb=(--profile release)
    ;;
  dev)
    # The whole workspace, as the test command builds it (a subset would resolve other
    # features and build again).
    cargo build --locked --workspace --all-targets
    dir=$target/debug
    # cargo-deb warns that it is meant for releases; the binaries are stripped all the same.
    deb=(--profile dev --strip)
    ;;
  *)
    echo "package.sh: LINEDESK_PACKAGE_PROFILE is release or dev, not '$profile'" >&2
    exit 2
    ;;
esac
echo "$profile build: $(($(date +%s) - started)) s"
cargo deb --no-build "${deb[@]}" -p linedesk-relay
cargo deb --no-build "${deb[@]}" -p linedesk
ls -l "$dir/linedesk" "$dir/linedesk-relay" "$target"/debian/*.deb
