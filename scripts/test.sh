#!/usr/bin/env bash
# Command 2 of the README: the whole test suite, as CI runs it.
#   lint (yamllint, ansible-lint production profile, the modules' documentation, the
#   roles' READMEs against their argument specs), the Django unit tests, the project's
#   own unit tests (tests/unit), then `molecule test` for every scenario (or only those named:
#   scripts/test.sh postgresql).
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
if scripts/build-test-images.sh; then
  for s in "${scenarios[@]}"; do
    step "molecule $s" molecule test -s "$s"
  done
else
  failed=$((failed + 1))
  failures+=("test images")
fi

echo
echo "Suite finished in $(( $(date +%s) - started )) s."
[ ${#failures[@]} -eq 0 ] || printf 'Failed: %s\n' "${failures[@]}"
echo "test suite: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
