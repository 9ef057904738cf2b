# shellcheck shell=bash
# Phases and the closing summary that .ci/run and `make test` (hack/test.sh)
# share, sourced by both: each step runs as a named phase, and on exit, also
# after a failure, the run prints how long each phase took, then go test's
# package verdicts, then the tests that were skipped, so those are the last
# lines on the screen.
#
#   source hack/phases.sh
#   phases_begin "make test"
#   phase vet go vet ./...
#   phase "go test" run_go_test ...   # its output goes to "${PHASES_DIR}/test.log"
#
# A run started inside another (make test under .ci/run) finds the outer
# run's PHASES_DIR in the environment: it adds its phases to the outer table,
# prefixed with the outer phase's name, and leaves the summary to the outer run.

phases_begin() {
  PHASES_TITLE="$1"
  if [[ -n "${PHASES_DIR:-}" && -d "${PHASES_DIR}" ]]; then
    PHASES_PREFIX="${PHASES_CURRENT:+${PHASES_CURRENT}/}"
    PHASES_OWNER=""
  else
    PHASES_DIR="$(mktemp -d "${TMPDIR:-/tmp}/trackstack-phases.XXXXXX")"
    PHASES_PREFIX=""
    PHASES_OWNER=1
    : >"${PHASES_DIR}/timings"
    : >"${PHASES_DIR}/test.log"
    : >"${PHASES_DIR}/skipped"
  fi
  export PHASES_DIR
  PHASES_RUNNING=""
  PHASES_STARTED=0
  PHASES_T0=${SECONDS}
  trap phases_end EXIT
}

# phase NAME COMMAND...: runs a step and records its duration.
phase() {
  PHASES_RUNNING="$1"
  shift
  echo
  echo "== ${PHASES_TITLE}: ${PHASES_RUNNING}: $*"
  PHASES_STARTED=${SECONDS}
  PHASES_CURRENT="${PHASES_PREFIX}${PHASES_RUNNING}" "$@"
  phases_record "$(printf '%-16s %5ds' "${PHASES_PREFIX}${PHASES_RUNNING}" $((SECONDS - PHASES_STARTED)))"
  PHASES_RUNNING=""
}

phases_record() { echo "$1" >>"${PHASES_DIR}/timings"; }

phases_end() {
  local rc=$?
  if [[ -n "${PHASES_RUNNING}" ]]; then
    phases_record "$(printf '%-16s %5ds  FAILED (exit %d)' "${PHASES_PREFIX}${PHASES_RUNNING}" $((SECONDS - PHASES_STARTED)) "${rc}")"
  fi
  [[ -n "${PHASES_OWNER}" ]] || return "${rc}"
  echo
  echo "== ${PHASES_TITLE} timings"
  sed 's/^/   /' "${PHASES_DIR}/timings"
  printf '   %-16s %5ds\n' total $((SECONDS - PHASES_T0))
  # go test's own per-package verdicts, then what did not run.
  if [[ -s "${PHASES_DIR}/test.log" ]]; then
    echo
    echo "== go test results"
    grep -E '^(ok[[:space:]]|FAIL([[:space:]]|$)|[[:space:]]*--- FAIL:|panic:)' "${PHASES_DIR}/test.log" || true
  fi
  if [[ -s "${PHASES_DIR}/skipped" ]]; then
    echo
    cat "${PHASES_DIR}/skipped"
  fi
  rm -rf "${PHASES_DIR}"
  return "${rc}"
}
