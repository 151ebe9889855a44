#!/usr/bin/env bash
# Build the local systemd test images that Molecule and the demo run on.
#
#   scripts/build-test-images.sh [--ca-bundle FILE|none] [--source auto|registry|debootstrap]
#                                [--force] [VERSION ...]
#
# VERSION is a Debian release number: 12 (bookworm) or 13 (trixie); default both.
# Each image is django-stack/debian:VERSION. It is reused while it is up to date: built
# from the same inputs (this script, the Dockerfile, the CA bundle) and younger than
# DJANGO_STACK_IMAGE_MAX_AGE_DAYS (default 7). --force rebuilds anyway.
#
# Base layer: with --source registry, the official debian:CODENAME image; with
# debootstrap, a minbase root file system built from Debian's packages (needs root and
# debootstrap; the only way on machines without a container registry). `auto` tries the
# registry first and falls back to debootstrap.
#
# CA bundle: behind a TLS-inspecting proxy, containers must trust the proxy's CA or
# pip and git fail with CERTIFICATE_VERIFY_FAILED. The default bundle is the host's
# own (/etc/ssl/certs/ca-certificates.crt), which already trusts whatever the host
# trusts; `--ca-bundle none` adds nothing.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=${DJANGO_STACK_IMAGE_REPO:-django-stack/debian}
max_age_days=${DJANGO_STACK_IMAGE_MAX_AGE_DAYS:-7}
ca_bundle=${DJANGO_STACK_CA_BUNDLE:-/etc/ssl/certs/ca-certificates.crt}
source_mode=auto
force=false
versions=()

die() { echo "build-test-images: $*" >&2; exit 2; }

codename_of() {
  case "$1" in
    12 | bookworm) echo bookworm ;;
    13 | trixie) echo trixie ;;
    *) return 1 ;;
  esac
}

while [ $# -gt 0 ]; do
  case "$1" in
    --ca-bundle) [ $# -ge 2 ] || die "--ca-bundle needs a file or 'none'"; ca_bundle=$2; shift 2 ;;
    --source) [ $# -ge 2 ] || die "--source needs auto, registry or debootstrap"; source_mode=$2; shift 2 ;;
    --force) force=true; shift ;;
    -h | --help) sed -n '2,22p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    -*) die "unknown option: $1" ;;
    *) versions+=("$1"); shift ;;
  esac
done
[ ${#versions[@]} -gt 0 ] || versions=(12 13)

# Validate everything before touching anything.
case "$source_mode" in auto | registry | debootstrap) ;; *)
  die "unknown --source '$source_mode' (expected auto, registry or debootstrap)" ;;
esac
for v in "${versions[@]}"; do
  codename_of "$v" >/dev/null || die "unknown distribution '$v' (expected 12 or 13)"
done
if [ "$ca_bundle" != none ]; then
  [ -f "$ca_bundle" ] || die "CA bundle '$ca_bundle' does not exist (give a PEM file or 'none')"
  grep -q 'BEGIN CERTIFICATE' "$ca_bundle" || die "CA bundle '$ca_bundle' holds no PEM certificate"
fi
docker info >/dev/null 2>&1 || die "no Docker engine answers (scripts/docker-engine.sh ensure starts one)"

ctx=$(mktemp -d)
rootfs=""
cleanup() {
  rm -rf "$ctx"
  [ -z "$rootfs" ] || rm -rf "$rootfs"
}
trap cleanup EXIT

cp "$here/images/Dockerfile" "$ctx/Dockerfile"
mkdir -p "$ctx/extra-ca"
[ "$ca_bundle" = none ] || cp "$ca_bundle" "$ctx/extra-ca/extra-bundle.crt"
inputs_hash=$(cat "$0" "$ctx/Dockerfile" "$ctx"/extra-ca/* 2>/dev/null | sha256sum | cut -c1-16)

image_is_current() {
  local image=$1 label created age
  label=$(docker image inspect -f '{{ index .Config.Labels "django-stack.inputs" }}' "$image" 2>/dev/null) || return 1
  [ "$label" = "$inputs_hash" ] || return 1
  created=$(docker image inspect -f '{{ .Created }}' "$image")
  age=$(( ($(date +%s) - $(date -d "$created" +%s)) / 86400 ))
  [ "$age" -lt "$max_age_days" ]
}

base_from_registry() {
  local codename=$1
  timeout 120 docker pull -q "debian:$codename" >/dev/null 2>&1 && echo "debian:$codename"
}

base_from_debootstrap() {
  local codename=$1 tag="django-stack/debian-base:$codename"
  command -v debootstrap >/dev/null 2>&1 || {
    [ "$(id -u)" -eq 0 ] || die "debootstrap is missing: install it (apt-get install debootstrap)"
    echo "build-test-images: installing debootstrap" >&2
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap >/dev/null
  }
  [ "$(id -u)" -eq 0 ] || die "debootstrap needs root: run as root or use --source registry"
  rootfs=$(mktemp -d)
  echo "build-test-images: debootstrap $codename (about a minute)" >&2
  # DEBIAN_MIRROR overrides debootstrap's default archive (a local mirror, say).
  debootstrap --variant=minbase "$codename" "$rootfs" ${DEBIAN_MIRROR:+"$DEBIAN_MIRROR"} \
    >"$ctx/debootstrap-$codename.log" 2>&1 \
    || { tail -n 20 "$ctx/debootstrap-$codename.log" >&2; die "debootstrap $codename failed"; }
  tar -C "$rootfs" -c . | docker import - "$tag" >/dev/null
  rm -rf "$rootfs"
  rootfs=""
  echo "$tag"
}

for v in "${versions[@]}"; do
  codename=$(codename_of "$v")
  image="$repo:$(case $codename in bookworm) echo 12 ;; trixie) echo 13 ;; esac)"
  if ! $force && image_is_current "$image"; then
    echo "build-test-images: $image is up to date"
    continue
  fi
  base=""
  case "$source_mode" in
    registry) base=$(base_from_registry "$codename") || die "cannot pull debian:$codename" ;;
    debootstrap) base=$(base_from_debootstrap "$codename") ;;
    auto) base=$(base_from_registry "$codename") || base=$(base_from_debootstrap "$codename") ;;
  esac
  echo "build-test-images: building $image from $base" >&2
  docker build -q --build-arg "BASE_IMAGE=$base" \
    --label "django-stack.inputs=$inputs_hash" -t "$image" "$ctx" >"$ctx/build.log" 2>&1 \
    || { tail -n 30 "$ctx/build.log" >&2; die "docker build of $image failed"; }
  echo "build-test-images: $image built ($(docker image inspect -f '{{ .Size }}' "$image" | awk '{ printf "%.0f MB", $1 / 1e6 }'))"
done
