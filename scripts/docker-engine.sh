#!/usr/bin/env bash
# Make sure a Docker engine answers, or stop the one this project started.
#
#   scripts/docker-engine.sh ensure   start Debian's engine if none answers (installing
#                                     docker.io when dockerd is missing)
#   scripts/docker-engine.sh stop     stop the engine, but only if `ensure` started it
#
# The engine is started detached, with its output in $DOCKER_ENGINE_LOG: a background
# process holding the caller's stdout open would keep a CI job from ever finishing.
set -euo pipefail

state_dir=${DJANGO_STACK_STATE_DIR:-${XDG_RUNTIME_DIR:-/tmp}/django-stack}
pid_file="$state_dir/dockerd.pid"
log_file=${DOCKER_ENGINE_LOG:-$state_dir/dockerd.log}

die() { echo "docker-engine: $*" >&2; exit 1; }

engine_answers() { docker info >/dev/null 2>&1; }

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo -n "$@"; fi
}

ensure() {
  command -v docker >/dev/null 2>&1 || install_engine
  if engine_answers; then
    return 0
  fi
  # A client alone (no engine) is the normal case on a fresh machine here.
  command -v dockerd >/dev/null 2>&1 || install_engine
  if command -v systemctl >/dev/null 2>&1 && [ -d /run/systemd/system ]; then
    as_root systemctl start docker || true
  fi
  if ! engine_answers; then
    mkdir -p "$state_dir"
    echo "docker-engine: starting dockerd (log: $log_file)" >&2
    # setsid + redirections: the engine must not inherit our terminal or stdout.
    as_root setsid dockerd >"$log_file" 2>&1 </dev/null &
    echo $! >"$pid_file"
  fi
  for _ in $(seq 1 60); do
    engine_answers && return 0
    sleep 1
  done
  die "the Docker engine did not answer within 60 s; see $log_file"
}

install_engine() {
  command -v apt-get >/dev/null 2>&1 \
    || die "no Docker engine and no apt-get to install one: install Docker, then retry"
  echo "docker-engine: installing Debian's docker.io" >&2
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq docker.io >/dev/null
}

stop() {
  [ -f "$pid_file" ] || return 0
  local pid
  pid=$(cat "$pid_file")
  rm -f "$pid_file"
  # `setsid` forks, so the recorded pid may be setsid's; stop whichever dockerd runs.
  if kill -0 "$pid" 2>/dev/null || pgrep -x dockerd >/dev/null; then
    echo "docker-engine: stopping the engine started by this project" >&2
    as_root pkill -TERM -x dockerd || true
    for _ in $(seq 1 30); do
      pgrep -x dockerd >/dev/null || return 0
      sleep 1
    done
    as_root pkill -KILL -x dockerd || true
  fi
}

case "${1:-}" in
  ensure) ensure ;;
  stop) stop ;;
  *) die "usage: $0 ensure|stop" ;;
esac
