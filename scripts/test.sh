#!/usr/bin/env bash
# Command 2 of the README: the whole test suite, as CI runs it.
#   lint (yamllint, ansible-lint production profile, the modules' documentation, the
#   roles' READMEs against their argument specs), the Django unit tests, the project's
#   own unit tests (tests/unit), then `molecule test` for every scenario, two at a time
#   (or only those named: scripts/test.sh postgresql).
# It starts a Docker engine if none answers and stops it again at the end.
set -uo pipefail
cd "$(dirname "$0")/.."

export NO_COLOR=1 PY_COLORS=0 ANSIBLE_FORCE_COLOR=0
passed=0
failed=0
failures=()
started=$(date +%s)

step() {
  local label=$1
  shift
  local t0=$SECONDS
  echo "==> $label"
  if "$@"; then
    passed=$((passed + 1))
    echo "==> $label: passed ($((SECONDS - t0)) s)"
  else
    failed=$((failed + 1))
    failures+=("$label")
    echo "==> $label: FAILED ($((SECONDS - t0)) s)"
  fi
}

scripts/setup-control-node.sh || exit 1
# shellcheck disable=SC1091
source .venv/bin/activate

scenarios=("$@")
if [ ${#scenarios[@]} -eq 0 ]; then
  for d in molecule/*/molecule.yml; do scenarios+=("$(basename "$(dirname "$d")")"); done
fi

step yamllint yamllint --strict .
step ansible-lint ansible-lint --profile production
# ansible-lint does not read the project's modules' documentation; ansible-doc fails on
# one that does not parse.
step "module documentation" bash -c 'ansible-doc -M library stack_files stack_service >/dev/null'
step "role documentation" python scripts/role_docs.py --check
step "django unit tests" bash -c 'cd django_app && python -m pytest -q -p no:cacheprovider'
step "unit tests" bash -c 'python -m pytest -q -p no:cacheprovider tests/unit'

scripts/docker-engine.sh ensure || exit 1
# The postgresql and mysql scenarios look at the admin tools in a real browser.
scripts/browser.sh || exit 1
trap 'scripts/docker-engine.sh stop' EXIT

# The scenarios run in two lanes at once (TEST_LANES=1 runs them one after another):
# much of a converge waits on package downloads and containers' services, so two lanes
# on two cores take about two thirds of the time of one. Each scenario's output goes to
# a log, printed when the lanes are done; a line says when each one ends.
# Minutes each took beside another scenario (measured 2026-12-04), to balance the lanes
# (a scenario not listed counts 10).
declare -A minutes=([migrations]=27 [custom-project]=10 [postgresql]=8 [mysql]=6 [multihost]=6 [preflight]=5)
lanes=${TEST_LANES:-2}
logs=$(mktemp -d)

run_scenario() {
  local s=$1 t0=$SECONDS rc=0
  molecule test -s "$s" >"$logs/$s.log" 2>&1 || rc=$?
  echo "$rc $((SECONDS - t0))" >"$logs/$s.result"
  echo "==> molecule $s: $([ "$rc" -eq 0 ] && echo passed || echo FAILED) ($((SECONDS - t0)) s)"
}

run_lane() {
  local s
  for s in "$@"; do run_scenario "$s"; done
}

if scripts/build-test-images.sh; then
  # Longest first, each to the lane with the fewest minutes so far.
  mapfile -t ordered < <(for s in "${scenarios[@]}"; do echo "${minutes[$s]:-10} $s"; done | sort -rn | cut -d' ' -f2)
  declare -a lane_minutes lane_names
  for ((i = 0; i < lanes; i++)); do lane_minutes[i]=0; lane_names[i]=""; done
  for s in "${ordered[@]}"; do
    best=0
    for ((i = 1; i < lanes; i++)); do
      [ "${lane_minutes[i]}" -lt "${lane_minutes[best]}" ] && best=$i
    done
    lane_minutes[best]=$((lane_minutes[best] + ${minutes[$s]:-10}))
    lane_names[best]="${lane_names[best]} $s"
  done
  pids=()
  for ((i = 0; i < lanes; i++)); do
    [ -n "${lane_names[i]}" ] || continue
    echo "==> lane $((i + 1)):${lane_names[i]}"
    # shellcheck disable=SC2086  # the lane's names, one word each
    run_lane ${lane_names[i]} &
    pids+=($!)
  done
  wait "${pids[@]}"
  for s in "${scenarios[@]}"; do
    echo
    echo "==> molecule $s: its output"
    cat "$logs/$s.log"
    read -r rc secs <"$logs/$s.result"
    if [ "$rc" -eq 0 ]; then
      passed=$((passed + 1))
      echo "==> molecule $s: passed ($secs s)"
    else
      failed=$((failed + 1))
      failures+=("molecule $s")
      echo "==> molecule $s: FAILED ($secs s)"
    fi
  done
  rm -rf "$logs"
else
  failed=$((failed + 1))
  failures+=("test images")
fi

echo
echo "Suite finished in $(( $(date +%s) - started )) s."
[ ${#failures[@]} -eq 0 ] || printf 'Failed: %s\n' "${failures[@]}"
echo "test suite: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
