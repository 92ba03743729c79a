#!/usr/bin/env bash
# The lean flight install on the Pi's architecture, without a Pi.
#
# Builds (or reuses) a Debian arm64 userland with debootstrap, runs it under qemu-user emulation,
# installs ilrs-fsw[pi] from this checkout into a venv inside it (non-editable), boots
# `ilrs-fsw run --hal pi` on mock pins on a pty that the host bridges with `ilrs-hil link`, and pings
# it from the host with `ilrs-ground`. Prints the install time, the boot time (process start until
# the first ping is answered) and the ping round trips under emulation.
#
# Usage (root, on a Debian/Ubuntu x86-64 host, after `make install` for the host tools):
#   hil/pi/arm64-check.sh [MIRROR]
# Environment:
#   ILRS_ARM64_ROOT    the arm64 root directory, kept and reused between runs (/var/tmp/ilrs-arm64)
#   ILRS_ARM64_MIRROR  Debian mirror for debootstrap (default http://deb.debian.org/debian, the one
#                      apt uses on the development machines); the first argument wins over it
#   ILRS_ARM64_SUITE   Debian release (bookworm, as Raspberry Pi OS)
#   ILRS_HOST_BIN      where the host's ilrs-hil and ilrs-ground are (.venv/bin of this checkout)
#   ILRS_ARM64_PINGS   pings for the round-trip figure (5)
#   ILRS_ARM64_BOOT_LIMIT  seconds to wait for the first answer (300)
# Not part of `make test`: it needs root, binfmt_misc and a few hundred MB of downloads.

set -euo pipefail

SRC=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
ROOT=${ILRS_ARM64_ROOT:-/var/tmp/ilrs-arm64}
MIRROR=${1:-${ILRS_ARM64_MIRROR:-http://deb.debian.org/debian}}
SUITE=${ILRS_ARM64_SUITE:-bookworm}
HOST_BIN=${ILRS_HOST_BIN:-$SRC/.venv/bin}
PINGS=${ILRS_ARM64_PINGS:-5}
BOOT_LIMIT=${ILRS_ARM64_BOOT_LIMIT:-300}
# python3-dev and gcc: crcmod and cobs come as source distributions and build a C extension
PACKAGES=python3,python3-venv,python3-dev,gcc,libc6-dev,ca-certificates
VENV=/opt/ilrs-venv          # inside the root
SOURCE_COPY=/opt/ilrs-src    # inside the root
FSW_TTY=/tmp/ilrs-fsw.tty    # inside the root; the host sees it as $ROOT$FSW_TTY
LOGS=$(mktemp -d /tmp/ilrs-arm64-check.XXXXXX)
GROUND_TTY=$LOGS/ground.tty

say() { printf 'arm64-check: %s\n' "$*" >&2; }
die() { say "$*"; exit 1; }
now() { date +%s.%N; }
seconds() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", b - a }'; }

[[ $(id -u) == 0 ]] || die "run as root (debootstrap, chroot and mounts need it)"
[[ -x $HOST_BIN/ilrs-hil && -x $HOST_BIN/ilrs-ground ]] \
    || die "no ilrs-hil/ilrs-ground in $HOST_BIN: run 'make install' or set ILRS_HOST_BIN"

# --- clean-up: only what this run started or mounted -------------------------------------------
LINK_PID='' FSW_PID='' PING_PID=''
MOUNTS=()
stop() {  # stop PID [seconds]: SIGTERM, then SIGKILL after the grace period
    local pid=$1 grace=${2:-10} i
    [[ -n $pid ]] && kill -0 "$pid" 2>/dev/null || return 0
    kill -TERM "$pid" 2>/dev/null || true
    for ((i = 0; i < grace * 10; i++)); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
}
cleanup() {
    local status=$? i
    stop "$PING_PID" 2
    stop "$FSW_PID" 15
    stop "$LINK_PID" 5
    for ((i = ${#MOUNTS[@]} - 1; i >= 0; i--)); do
        umount -R "${MOUNTS[i]}" 2>/dev/null || umount -R -l "${MOUNTS[i]}" 2>/dev/null || say "could not unmount ${MOUNTS[i]}"
    done
    if ((status != 0)); then say "failed (exit $status); logs in $LOGS"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP

# --- host tools and emulation -------------------------------------------------------------------
if ! command -v debootstrap >/dev/null || ! command -v qemu-aarch64-static >/dev/null \
        || ! command -v update-binfmts >/dev/null; then
    say "installing debootstrap, qemu-user-static and binfmt-support from Debian's packages"
    apt-get update -q >"$LOGS/apt.log" 2>&1
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q debootstrap qemu-user-static binfmt-support \
        >>"$LOGS/apt.log" 2>&1 || die "apt-get install failed (see $LOGS/apt.log)"
fi
if [[ ! -e /proc/sys/fs/binfmt_misc/register ]]; then
    mount binfmt_misc -t binfmt_misc /proc/sys/fs/binfmt_misc \
        || die "cannot mount binfmt_misc: arm64 programs cannot be started here"
fi
update-binfmts --enable qemu-aarch64 >/dev/null 2>&1 || true
if ! grep -qx enabled /proc/sys/fs/binfmt_misc/qemu-aarch64 2>/dev/null; then
    # `chroot ROOT /usr/bin/qemu-aarch64-static PROGRAM` runs one arm64 program (the installed
    # python3 imports and runs), but that program cannot start another arm64 program: the second
    # stage (dpkg's maintainer scripts) and pip (build back ends, gcc) need the kernel to know them.
    die "binfmt_misc has no enabled qemu-aarch64 entry (update-binfmts --enable qemu-aarch64 failed)"
fi
binfmt_flags=$(sed -n 's/^flags: //p' /proc/sys/fs/binfmt_misc/qemu-aarch64)

# A clean environment inside the root: no host PIP_* settings.
CLEAN_ENV=(/usr/bin/env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME=/root
           LANG=C.UTF-8 TERM=dumb)
in_root() { chroot "$ROOT" "${CLEAN_ENV[@]}" "$@"; }

# --- the arm64 root -----------------------------------------------------------------------------
if [[ ! -e $ROOT/.ilrs-bootstrapped ]]; then
    if [[ ! -x $ROOT/debootstrap/debootstrap ]]; then
        if [[ -d $ROOT && -n $(ls -A "$ROOT") ]]; then
            die "$ROOT exists, is not empty and is not a debootstrap root: choose another ILRS_ARM64_ROOT"
        fi
        say "debootstrap first stage: $SUITE arm64 from $MIRROR into $ROOT"
        started=$(now)
        debootstrap --arch=arm64 --foreign --variant=minbase --include="$PACKAGES" "$SUITE" "$ROOT" "$MIRROR" \
            >"$LOGS/debootstrap-1.log" 2>&1 || die "debootstrap first stage failed (see $LOGS/debootstrap-1.log)"
        say "first stage took $(seconds "$started" "$(now)") s"
    fi
    # Not needed with the F (fix binary) flag, which opens the interpreter when it is registered.
    install -m 0755 /usr/bin/qemu-aarch64-static "$ROOT/usr/bin/qemu-aarch64-static"
    say "debootstrap second stage under emulation (several minutes)"
    started=$(now)
    chroot "$ROOT" /debootstrap/debootstrap --second-stage >"$LOGS/debootstrap-2.log" 2>&1 \
        || die "debootstrap second stage failed (see $LOGS/debootstrap-2.log and $ROOT/debootstrap/debootstrap.log)"
    say "second stage took $(seconds "$started" "$(now)") s"
    touch "$ROOT/.ilrs-bootstrapped"
fi

# Devices (with /dev/pts, so that the host's pty is the same inside) and /proc.
mountpoint -q "$ROOT/proc" || { mount -t proc proc "$ROOT/proc"; MOUNTS+=("$ROOT/proc"); }
mountpoint -q "$ROOT/dev" || { mount --rbind /dev "$ROOT/dev"; mount --make-rslave "$ROOT/dev"; MOUNTS+=("$ROOT/dev"); }
cp -L /etc/resolv.conf "$ROOT/etc/resolv.conf" 2>/dev/null || true
# pip inside trusts what the host trusts (a proxy's certificate authority, if any)
host_ca=${PIP_CERT:-/etc/ssl/certs/ca-certificates.crt}
if [[ -r $host_ca ]]; then cp "$host_ca" "$ROOT/etc/ilrs-host-ca.crt"; fi

machine=$(in_root uname -m)
pyversion=$(in_root python3 -c 'import platform; print(platform.python_version(), platform.machine())')
[[ $machine == aarch64 ]] || die "the root runs as $machine, not aarch64"
say "root $ROOT: $(in_root cat /etc/debian_version) $machine, python $pyversion, binfmt flags $binfmt_flags"

# --- install ilrs-fsw[pi] from this checkout ----------------------------------------------------
rm -rf "$ROOT$SOURCE_COPY" "$ROOT$VENV"
mkdir -p "$ROOT$SOURCE_COPY"
tar -C "$SRC" --exclude=./.git --exclude=./.venv --exclude=./build --exclude='*.egg-info' --exclude=./runs \
    --exclude=__pycache__ --exclude=.pytest_cache --exclude=.ruff_cache --exclude=.hypothesis -cf - . \
    | tar -C "$ROOT$SOURCE_COPY" -xf -
in_root python3 -m venv "$VENV"
say "pip install '${SOURCE_COPY}[pi]' inside the root (no cache: every run downloads and builds)"
started=$(now)
in_root PIP_CERT=/etc/ilrs-host-ca.crt PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_DEFAULT_TIMEOUT=120 \
    "$VENV/bin/pip" install --no-cache-dir "${SOURCE_COPY}[pi]" >"$LOGS/pip-install.log" 2>&1 \
    || die "pip install failed (see $LOGS/pip-install.log)"
install_s=$(seconds "$started" "$(now)")
installed=$(in_root "$VENV/bin/pip" list --format=freeze 2>/dev/null | tr '\n' ' ')
say "installed in $install_s s: $installed"

# --- boot on mock pins behind a host link --------------------------------------------------------
rm -rf "$ROOT"/var/tmp/ilrs-fsw.sqlite*
"$HOST_BIN/ilrs-hil" link --a "$ROOT$FSW_TTY" --b "$GROUND_TTY" >"$LOGS/link.log" 2>&1 &
LINK_PID=$!
for ((i = 0; i < 100; i++)); do
    grep -q '^link ready' "$LOGS/link.log" && break
    kill -0 "$LINK_PID" 2>/dev/null || die "ilrs-hil link exited: $(cat "$LOGS/link.log")"
    sleep 0.1
done
grep -q '^link ready' "$LOGS/link.log" || die "ilrs-hil link not ready after 10 s"

# One ground process pings every half second from before the start: the first answer marks the boot.
PYTHONUNBUFFERED=1 "$HOST_BIN/ilrs-ground" --port "$GROUND_TTY" ping --count $((BOOT_LIMIT * 2)) \
    --interval 0 --timeout 0.5 >"$LOGS/boot-ping.log" 2>&1 &
PING_PID=$!
sleep 0.5
started=$(now)
# chroot, not the in_root function: $! must be the flight software itself (chroot and env exec it),
# not a subshell, so that SIGTERM reaches it.
chroot "$ROOT" "${CLEAN_ENV[@]}" GPIOZERO_PIN_FACTORY=mock "$VENV/bin/ilrs-fsw" run --hal pi --port "$FSW_TTY" \
    --store /var/tmp/ilrs-fsw.sqlite -v >"$LOGS/fsw.log" 2>&1 &
FSW_PID=$!
while ! grep -q 'rtt=' "$LOGS/boot-ping.log"; do
    kill -0 "$FSW_PID" 2>/dev/null || die "ilrs-fsw exited during boot: $(tail -5 "$LOGS/fsw.log")"
    kill -0 "$PING_PID" 2>/dev/null || die "no answer within $BOOT_LIMIT s: $(tail -3 "$LOGS/fsw.log")"
    sleep 0.05
done
boot_s=$(seconds "$started" "$(now)")
stop "$PING_PID" 2
PING_PID=
say "first ping answered $boot_s s after start"

"$HOST_BIN/ilrs-ground" --port "$GROUND_TTY" ping --count "$PINGS" | tee "$LOGS/ping.log"
rtt=$(tail -1 "$LOGS/ping.log")
"$HOST_BIN/ilrs-ground" --port "$GROUND_TTY" tlm device_states devices_absent >"$LOGS/tlm.log" 2>&1 || true

stop "$FSW_PID" 30
FSW_PID=
if grep -q 'SHUTDOWN' "$LOGS/fsw.log"; then
    shutdown="clean on SIGTERM ($(grep -o 'SHUTDOWN: .*' "$LOGS/fsw.log" | head -1))"
else
    shutdown="no SHUTDOWN event in the flight log"
fi

cat <<EOF

arm64 check: Debian $SUITE arm64 under qemu-user ($(qemu-aarch64-static --version | head -1)), python $pyversion
  install: pip install ilrs-fsw[pi] (non-editable, no cache)  $install_s s
  boot:    ilrs-fsw run --hal pi (mock pins) start to first ping answered  $boot_s s (0.5 s resolution)
  ping:    $rtt
  stop:    $shutdown
  devices: $(grep -h 'device_states' "$LOGS/tlm.log" | head -1 | sed 's/^[^ ]* //')
  logs:    $LOGS
EOF
