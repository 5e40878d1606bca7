#!/usr/bin/env bash
# Builds the release packages with cargo-deb, into target/debian/:
#   linedesk_<version>_amd64.deb        the console (/usr/bin/linedesk, desktop entry, icons,
#                                       AppStream metadata; WebKitGTK as dependencies)
#   linedesk-relay_<version>_amd64.deb  the relay, its systemd unit and /etc/linedesk/relay.toml
# Safe to run twice. AppImage is not built: its tooling is downloaded at build time, which
# this project's build machines cannot do.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/setup.sh
linedesk_setup
command -v cargo-deb >/dev/null || cargo install cargo-deb --locked
LINEDESK_COMMIT=$(git rev-parse --short=12 HEAD 2>/dev/null || echo unknown)
export LINEDESK_COMMIT
started=$(date +%s)
cargo build --locked --release -p linedesk-relay -p linedesk
echo "release build: $(($(date +%s) - started)) s"
cargo deb --no-build -p linedesk-relay
cargo deb --no-build -p linedesk
ls -l target/release/linedesk target/release/linedesk-relay target/debian/*.deb
