#!/bin/sh
# Runs a command with an unlocked, throwaway GNOME Keyring on the current D-Bus session bus.
# Use inside `dbus-run-session`, as scripts/test.sh does. Nothing persists: the keyring lives
# in a temporary XDG_DATA_HOME that is removed afterwards.
set -eu
: "${DBUS_SESSION_BUS_ADDRESS:?run this inside dbus-run-session}"
XDG_DATA_HOME=$(mktemp -d)
export XDG_DATA_HOME
trap 'rm -rf "$XDG_DATA_HOME"' EXIT
eval "$(printf 'linedesk-test-keyring' | gnome-keyring-daemon --unlock --components=secrets)"
export GNOME_KEYRING_CONTROL
"$@"
