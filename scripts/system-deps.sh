#!/bin/sh
# Install the Debian packages carbonmet needs when they are missing (系统依赖).
#
# The list is scripts/system-packages.txt (one package a line, "#" comments); more packages may be given in
# the variable CARBONMET_SYSTEM_PACKAGES (space-separated) or as arguments. Idempotent and quick when
# everything is present: each package is checked with dpkg-query first, and `apt-get update` runs only when
# something must be installed. Needs root (or sudo) to install; prints what it does.
#
# CARBONMET_SKIP_SYSTEM_DEPS=1 skips the whole step (a machine set up by other means).
set -eu

here=$(cd "$(dirname "$0")" && pwd)
list="$here/system-packages.txt"

if [ "${CARBONMET_SKIP_SYSTEM_DEPS:-0}" = "1" ]; then
    echo "system-deps: skipped (CARBONMET_SKIP_SYSTEM_DEPS=1)"
    exit 0
fi

wanted=$(sed -e 's/#.*//' "$list" | tr -s ' \t' '\n\n' | grep -v '^$' || true)
wanted="$wanted ${CARBONMET_SYSTEM_PACKAGES:-} $*"

if ! command -v dpkg-query >/dev/null 2>&1; then
    echo "system-deps: not a Debian system (no dpkg-query); install by hand the equivalents of:" $wanted >&2
    echo "system-deps: (set CARBONMET_SKIP_SYSTEM_DEPS=1 to silence this)" >&2
    exit 1
fi

missing=""
for p in $wanted; do
    status=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)
    if [ "$status" != "installed" ]; then
        missing="$missing $p"
    fi
done

if [ -z "$missing" ]; then
    echo "system-deps: all present ($(echo $wanted | wc -w) Debian packages)"
    exit 0
fi

echo "system-deps: missing:$missing"
if [ "$(id -u)" = "0" ]; then
    sudo=""
elif command -v sudo >/dev/null 2>&1; then
    sudo="sudo"
else
    echo "system-deps: not root and no sudo; as root run: apt-get update && apt-get install -y$missing" >&2
    exit 1
fi

export DEBIAN_FRONTEND=noninteractive
# wait for another apt/dpkg run to finish instead of failing on its lock
lock="-o DPkg::Lock::Timeout=600"
echo "system-deps: apt-get update"
$sudo apt-get $lock update -qq
echo "system-deps: apt-get install$missing"
# shellcheck disable=SC2086
$sudo apt-get $lock install -y -qq --no-install-recommends $missing
case "$missing" in
    *font*) echo "system-deps: fc-cache"; fc-cache -f >/dev/null 2>&1 || true ;;
esac
echo "system-deps: done"
