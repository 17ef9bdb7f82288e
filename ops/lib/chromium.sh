#!/usr/bin/env bash
# Debian's Chromium for the browser tests (tests/Projections.Tests/Browser), which drive /usr/bin/chromium through
# Playwright; Playwright's own browser download cannot work on our machines.
#
#   source ops/lib/chromium.sh
#   chromium_install     # installs Debian's chromium package when /usr/bin/chromium is missing (as root)
#
# Without root, or when the install fails, it only says so: the rest of the suite still runs, and the browser tests
# fail saying what is missing.

chromium_install() {
  [ -x /usr/bin/chromium ] && return 0
  if [ "$(id -u)" -ne 0 ]; then
    echo "[chromium] /usr/bin/chromium is missing and installing it needs root (apt-get install -y chromium)" >&2
    return 0
  fi
  echo "[chromium] installing Debian's chromium package (for the browser tests)..." >&2
  local apt="env DEBIAN_FRONTEND=noninteractive apt-get"
  $apt install -y -qq chromium >/dev/null 2>&1 || { $apt update -qq >/dev/null && $apt install -y -qq chromium >/dev/null; } ||
    echo "[chromium] could not install the chromium package: the browser tests will fail" >&2
}
