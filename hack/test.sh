#!/usr/bin/env bash
# `make test`: sets the machine up and runs every test.
#   1. packages: hack/install-test-deps.sh (PostgreSQL server binaries,
#      Chromium, chromedriver, ...): installs what is missing as root, and as
#      any other user stops at once with the command to run;
#   2. envtest: hack/build-envtest-bins.sh builds kube-apiserver, etcd and
#      kubectl, or reuses the copy cached under ~/.cache/trackstack/k8s;
#   3. vet: go vet ./...;
#   4. go test: every package. A skipped test fails the run: every test's
#      dependencies are installed by step 1 and 2, so a skip is a test that
#      silently did not run.
# Then it prints how long each phase took and go test's package verdicts.
#
# SHORT=1 (`make test SHORT=1`) is the quick subset: no set-up, and go test
# -short, under which the tests that need PostgreSQL, Chromium or the envtest
# control plane skip; the summary says how many were left out and why.
#
# Environment: ENVTEST_DIR (where the envtest binaries go), K8S_VERSION,
# ETCD_VERSION (for hack/build-envtest-bins.sh), TEST_ARGS (more go test flags).
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
# shellcheck source=hack/phases.sh
source hack/phases.sh

if ! command -v go >/dev/null 2>&1; then
  echo "Go is not installed (the project needs Go 1.26; see README.md)" >&2
  exit 1
fi

# run_go_test MODE ARGS...: go test -json, rendered as go test prints it by
# hack/testreport, which also lists the skipped tests. MODE "short" allows
# skips, "full" fails on any.
run_go_test() {
  local mode="$1"
  shift
  local allow=()
  [[ "${mode}" == full ]] || allow=(-allow-skips)
  # shellcheck disable=SC2086 # TEST_ARGS holds several flags
  go test -json "$@" ${TEST_ARGS:-} 2>&1 |
    go run ./hack/testreport "${allow[@]}" -skipped "${PHASES_DIR}/skipped" |
    tee -a "${PHASES_DIR}/test.log"
}

phases_begin "make test"
if [[ -n "${SHORT:-}" && "${SHORT}" != 0 ]]; then
  phase vet go vet ./...
  phase "go test" run_go_test short ./... -short -count=1 -timeout 30m
  exit 0
fi

envtest_dir="${ENVTEST_DIR:?ENVTEST_DIR is set by the Makefile}"
phase packages hack/install-test-deps.sh
phase envtest hack/build-envtest-bins.sh
phase vet go vet ./...
KUBEBUILDER_ASSETS="${envtest_dir}" phase "go test" run_go_test full ./... -count=1 -timeout 30m
