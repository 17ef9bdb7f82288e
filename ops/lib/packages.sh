#!/usr/bin/env bash
# Debian packages the tests start themselves: PgBouncer (tests/Projections.Tests/Infrastructure/PgBouncer.cs) and
# RabbitMQ (tests/Projections.Tests/Infrastructure/RabbitMq.cs). A fresh machine has neither.
#
#   source ops/lib/packages.sh
#   package_install /usr/sbin/pgbouncer pgbouncer     # installs the package when the file is missing (as root)
#   test_services_install                             # everything the test suite starts itself
#
# Without root, or when the install fails, it only says so: the tests that need the program fail saying what is missing.

package_install() {
  local file=$1 package=$2
  [ -e "$file" ] && return 0
  if [ "$(id -u)" -ne 0 ]; then
    echo "[packages] $file is missing and installing it needs root (apt-get install -y $package)" >&2
    return 0
  fi
  echo "[packages] installing Debian's $package package..." >&2
  local apt="env DEBIAN_FRONTEND=noninteractive apt-get"
  # The package's own service is not wanted: the tests start their own instance on free ports.
  local policy=/usr/sbin/policy-rc.d had_policy=0
  [ -e $policy ] && had_policy=1
  if [ $had_policy -eq 0 ]; then printf '#!/bin/sh\nexit 101\n' > $policy; chmod +x $policy; fi
  $apt install -y -qq "$package" >/dev/null 2>&1 || { $apt update -qq >/dev/null && $apt install -y -qq "$package" >/dev/null; } ||
    echo "[packages] could not install $package: the tests that need it will fail" >&2
  [ $had_policy -eq 1 ] || rm -f $policy
}

test_services_install() {
  package_install /usr/sbin/pgbouncer pgbouncer
  package_install /usr/sbin/rabbitmq-server rabbitmq-server
}
