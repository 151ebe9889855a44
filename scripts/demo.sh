#!/usr/bin/env bash
# Command 1 of the README: set up the control node, create a local throwaway server (a
# systemd container) and run site.yml against it, then say what is where.
#
#   DEMO_HTTP_PORT   host port for the site's HTTP   (default 8080, bound to 127.0.0.1)
#   DEMO_HTTPS_PORT  host port for the site's HTTPS  (default 8443, bound to 127.0.0.1)
#   DEMO_DEBIAN      Debian release of the demo host: 12 or 13 (default 12)
#   DEMO_CA_BUNDLE   CA bundle the host trusts (default: this machine's; 'none' for none)
# Extra arguments go to ansible-playbook (for example --check or -e stack_db_engine=mysql).
set -euo pipefail
cd "$(dirname "$0")/.."

name=django-stack-demo
http_port=${DEMO_HTTP_PORT:-8080}
https_port=${DEMO_HTTPS_PORT:-8443}
debian=${DEMO_DEBIAN:-12}

die() { echo "demo: $*" >&2; exit 2; }
for p in "$http_port" "$https_port"; do
  [[ "$p" =~ ^[0-9]+$ ]] && [ "$p" -ge 1 ] && [ "$p" -le 65535 ] || die "'$p' is not a port number (DEMO_HTTP_PORT, DEMO_HTTPS_PORT)"
done
case "$debian" in 12 | 13) ;; *) die "unknown DEMO_DEBIAN '$debian' (expected 12 or 13)" ;; esac

scripts/setup-control-node.sh
scripts/docker-engine.sh ensure
scripts/build-test-images.sh ${DEMO_CA_BUNDLE:+--ca-bundle "$DEMO_CA_BUNDLE"} "$debian"

if ! docker container inspect "$name" >/dev/null 2>&1; then
  docker network inspect "$name" >/dev/null 2>&1 || docker network create "$name" >/dev/null
  echo "demo: creating the container $name (Debian $debian)"
  # The same systemd settings as the Molecule platforms (.config/molecule/config.yml).
  docker run -d --name "$name" --hostname "$name" --network "$name" \
    --cap-add SYS_ADMIN --security-opt seccomp=unconfined --security-opt apparmor=unconfined \
    --cgroupns host -v /sys/fs/cgroup:/sys/fs/cgroup:rw \
    --tmpfs /run --tmpfs /run/lock --tmpfs /tmp \
    -p "127.0.0.1:$http_port:80" -p "127.0.0.1:$https_port:443" \
    "django-stack/debian:$debian" >/dev/null
fi
[ "$(docker container inspect -f '{{ .State.Running }}' "$name")" = true ] || docker start "$name" >/dev/null
gateway=$(docker network inspect -f '{{ (index .IPAM.Config 0).Gateway }}' "$name")

# shellcheck disable=SC1091
source .venv/bin/activate
# Requests to the published ports reach the container through Docker's proxy, from the
# demo network's gateway: let exactly that address use the admin tools.
allow="{\"pgadmin_allowed_networks\": [\"$gateway/32\"], \"phpmyadmin_allowed_networks\": [\"$gateway/32\"]}"
ansible-playbook site.yml -e "$allow" "$@"

published=$(docker port "$name" 80/tcp | head -n 1)
base="http://${published:-127.0.0.1:$http_port}"
cat <<TXT

The demo server is the container '$name' (Debian $debian).
  Django site:   $base/      (health: $base/health/)
$(python3 scripts/demo_logins.py "$name" "$base" "$@")
Generated credentials (mode 0600, git-ignored): inventory/local/.credentials/
Shell on the server: docker exec -it $name bash    Remove it: make demo-clean
TXT
