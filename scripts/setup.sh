#!/usr/bin/env bash
# Installs what linedesk needs to build and test on Debian 12 / Ubuntu 22.04+, only what is
# missing, so it is safe to run again. Sourced by demo.sh and test.sh.
set -euo pipefail

# Build and test packages. Rust and Node come with the machine; everything else from apt.
LINEDESK_APT_PACKAGES=(
  build-essential pkg-config ca-certificates
  # keyring (Secret Service over D-Bus) and its headless test set-up
  libdbus-1-dev dbus gnome-keyring
  # the Tauri app (WebKitGTK) — shared/notes/TAURI-LINUX.md §1
  libwebkit2gtk-4.1-dev libgtk-3-dev libayatana-appindicator3-dev librsvg2-dev libsoup-3.0-dev libxdo-dev
  # the real window under Xvfb, WebDriver, screenshots, and fonts for 中文, 日本語, ไทย
  xvfb xauth webkit2gtk-driver imagemagick xdotool fonts-noto-cjk fonts-noto-core fonts-noto-color-emoji fonts-dejavu-core
  # H.264 for customers' videos in WebKitGTK (GStreamer's libav plugin)
  gstreamer1.0-libav
  # packages (scripts/package.sh): shared-library dependencies and their checks
  dpkg-dev lintian
  # the relay on PostgreSQL: a throwaway cluster per test run (scripts/pg.sh)
  postgresql
)

linedesk_missing_packages() {
  local missing=()
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  echo "${missing[@]:-}"
}

linedesk_setup() {
  local missing
  missing=$(linedesk_missing_packages "${LINEDESK_APT_PACKAGES[@]}")
  if [ -n "${missing// /}" ]; then
    echo "setup: installing Debian packages: $missing"
    local sudo=""
    [ "$(id -u)" -ne 0 ] && sudo="sudo"
    $sudo apt-get update -qq
    # shellcheck disable=SC2086
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends $missing
  fi
  command -v cargo >/dev/null || { echo "setup: cargo not found; install Rust (rustup) first" >&2; exit 1; }
  command -v npm >/dev/null || { echo "setup: npm not found; install Node.js first" >&2; exit 1; }
  local root_dir
  root_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
  # The UI's npm packages, exactly as the lock file says; skipped when already in place.
  if [ ! -f "$root_dir/ui/node_modules/.package-lock.json" ] || ! cmp -s "$root_dir/ui/package-lock.json" "$root_dir/ui/node_modules/.linedesk-lock"; then
    (cd "$root_dir/ui" && npm ci --no-audit --no-fund && cp package-lock.json node_modules/.linedesk-lock)
  fi
  # tauri-driver bridges WebDriver to the app's WebKitWebDriver (pinned to ^2: crates.io has 3.0 alphas).
  command -v tauri-driver >/dev/null || cargo install tauri-driver --locked --version '^2'
  # The app embeds the built UI, so build it before any cargo build of src-tauri.
  (cd "$root_dir/ui" && npx vite build --logLevel warn)
  # LINE's SDK fixtures and OpenAPI files live in shared/ beside the repository, when at all:
  # the project's own fixtures (tests/fixtures/line) cover everything else.
  if [ -z "${LINEDESK_SHARED:-}" ]; then
    local root
    root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
    if [ -d "$root/../shared/line-api" ]; then
      LINEDESK_SHARED=$(cd "$root/../shared" && pwd)
      export LINEDESK_SHARED
    else
      echo "setup: LINE's published files (shared/line-api) are not beside the repository;" \
        "the checks against them will say skipped (set LINEDESK_SHARED to run them)"
    fi
  fi
}
