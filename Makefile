# trackstack — run `make help` for the targets.

# Image of the operator and of the runtime (collector, forwarder, dashboard, retention).
IMG ?= ghcr.io/trackstack/operator:dev
RUNTIME_IMG ?= ghcr.io/trackstack/trackstack:dev

# Versions of the control plane the envtest suites run against, built from Go
# module sources by hack/build-envtest-bins.sh (release downloads are not possible here).
K8S_VERSION ?= 1.37.2
ETCD_VERSION ?= 3.6.15
GOOS ?= $(shell go env GOOS)
GOARCH ?= $(shell go env GOARCH)
ENVTEST_DIR ?= $(CURDIR)/bin/k8s/$(K8S_VERSION)-$(GOOS)-$(GOARCH)

# Standalone mode: where `make run` keeps its data and what it listens on.
RUN_CONFIG ?= config/samples/standalone
RUN_DATA ?= $(CURDIR)/.data
RUN_LISTEN ?= 127.0.0.1:8080

CONTROLLER_GEN ?= go tool controller-gen
# kubectl from the envtest binaries when built (its kustomize matches the API
# version we test against), else the one on PATH. kubectl's built-in kustomize
# has no `edit` subcommand, so `make deploy` sets the image in a throwaway overlay.
KUBECTL ?= $(if $(wildcard $(ENVTEST_DIR)/kubectl),$(ENVTEST_DIR)/kubectl,kubectl)
KUSTOMIZE ?= $(KUBECTL) kustomize

.PHONY: all
all: build

##@ General

.PHONY: help
help: ## Show the targets.
	@awk 'BEGIN {FS = ":.*##"; printf "Usage: make \033[36m<target>\033[0m\n"} /^[a-zA-Z_0-9-]+:.*?##/ { printf "  \033[36m%-16s\033[0m %s\n", $$1, $$2 } /^##@/ { printf "\n\033[1m%s\033[0m\n", substr($$0, 5) } ' $(MAKEFILE_LIST)

##@ Development

.PHONY: manifests
manifests: ## Generate CRDs and RBAC from the markers in api/ and controllers/.
	$(CONTROLLER_GEN) rbac:roleName=manager-role crd webhook paths="./api/..." paths="./controllers/..." output:crd:artifacts:config=config/crd/bases

.PHONY: generate
generate: ## Generate DeepCopy methods and the minified tracker script.
	$(CONTROLLER_GEN) object:headerFile="hack/boilerplate.go.txt" paths="./api/..."
	@if [ -x hack/build-tracker.sh ]; then hack/build-tracker.sh; fi

.PHONY: fmt
fmt: ## Run go fmt.
	go fmt ./...

.PHONY: vet
vet: ## Run go vet.
	go vet ./...

.PHONY: verify
verify: generate manifests ## Fail when generated files are stale (CI runs this).
	@if [ -n "$$(git status --porcelain -- api config runtime)" ]; then \
		echo "generated files are stale; run 'make generate manifests' and commit:"; \
		git status --porcelain -- api config runtime; git diff --stat -- api config runtime; exit 1; fi
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { echo "gofmt needed on:"; gofmt -l $$(git ls-files '*.go'); exit 1; }

.PHONY: envtest-bins
envtest-bins: ## Build (or reuse) kube-apiserver, etcd and kubectl for envtest.
	K8S_VERSION=$(K8S_VERSION) ETCD_VERSION=$(ETCD_VERSION) hack/build-envtest-bins.sh

# make test sets the machine up first (hack/install-test-deps.sh: as root it
# installs the missing system packages, as anyone else it stops and says the
# command to run; then the envtest binaries), runs every test, and fails when
# one is skipped. SHORT=1 runs only the tests that need nothing but Go
# (go test -short), with no set-up, and lists what it left out.
SHORT ?=

.PHONY: test
test: ## Set up (system packages, envtest binaries) and run every test; SHORT=1: only Go-only tests.
	ENVTEST_DIR="$(ENVTEST_DIR)" K8S_VERSION="$(K8S_VERSION)" ETCD_VERSION="$(ETCD_VERSION)" \
		SHORT="$(SHORT)" TEST_ARGS="$(TEST_ARGS)" hack/test.sh

.PHONY: argocd-fixtures
argocd-fixtures: envtest-bins ## Regenerate the Argo CD health test inputs from statuses the operator writes in envtest.
	UPDATE_ARGOCD_FIXTURES=1 KUBEBUILDER_ASSETS="$(ENVTEST_DIR)" go test ./controllers/ -run '^TestArgoCDHealthFixtures$$' -count=1
	go test ./config/argocd/ -count=1

# Fuzz targets run briefly in CI (their seed corpora under testdata/fuzz run in
# every plain `go test` too). FUZZTIME per target.
FUZZTIME ?= 10s
FUZZ_TARGETS ?= ./runtime/ingest:FuzzDecodeBrowser ./runtime/ingest:FuzzDecodeServer ./runtime/ingest:FuzzBrowserEndpoint ./runtime/standalone:FuzzDecode ./runtime/sealing:FuzzOpen ./runtime/dashboard/auth:FuzzOpenSessionCookie ./runtime/dashboard/auth:FuzzOpenOIDCFlow ./runtime/eventfile:FuzzReader

.PHONY: fuzz
fuzz: ## Run each decoder fuzz target for FUZZTIME.
	@set -e; for t in $(FUZZ_TARGETS); do pkg=$${t%%:*}; fn=$${t##*:}; \
		if [ -d "$$pkg" ]; then echo "fuzz $$pkg $$fn ($(FUZZTIME))"; \
		go test "$$pkg" -run '^$$' -fuzz "^$$fn\$$" -fuzztime $(FUZZTIME); fi; done

.PHONY: bench
bench: envtest-bins ## Run the benchmarks.
	KUBEBUILDER_ASSETS="$(ENVTEST_DIR)" go test ./... -run '^$$' -bench . -benchmem -timeout 60m $(BENCH_ARGS)

# Load test of the collector from outside its process (hack/load/run.sh): wrk
# posts ~850-byte server events to `trackstack collect` on a throwaway
# PostgreSQL with fsync on and every rate limit lifted, then checks that every
# acknowledged event is stored. LOAD_BIN is the binary under test: the default
# is built from this tree; point it at another build to compare two versions.
LOAD_EVENTS ?= 1
LOAD_CONNS ?= 50
LOAD_DURATION ?= 30s
LOAD_WARMUP ?= 5s
LOAD_THREADS ?= 2
LOAD_SHAPES ?= 1x50 1x200 20x50
LOAD_BIN ?= bin/trackstack

.PHONY: load
load: ## Load-test the collector with wrk: LOAD_EVENTS per request, LOAD_CONNS connections, LOAD_DURATION.
	@if [ "$(LOAD_BIN)" = bin/trackstack ]; then go build -o bin/trackstack ./runtime/cmd/trackstack; fi
	LOAD_DURATION=$(LOAD_DURATION) LOAD_WARMUP=$(LOAD_WARMUP) LOAD_THREADS=$(LOAD_THREADS) TRACKSTACK_BIN=$(LOAD_BIN) hack/load/run.sh $(LOAD_EVENTS)x$(LOAD_CONNS)

.PHONY: load-all
load-all: ## Load-test each shape of LOAD_SHAPES (EVENTSxCONNECTIONS) in turn, LOAD_DURATION each.
	@if [ "$(LOAD_BIN)" = bin/trackstack ]; then go build -o bin/trackstack ./runtime/cmd/trackstack; fi
	LOAD_DURATION=$(LOAD_DURATION) LOAD_WARMUP=$(LOAD_WARMUP) LOAD_THREADS=$(LOAD_THREADS) TRACKSTACK_BIN=$(LOAD_BIN) hack/load/run.sh $(LOAD_SHAPES)

##@ Build

.PHONY: build
build: generate fmt vet ## Build the operator (bin/manager) and the runtime (bin/trackstack).
	go build -o bin/manager .
	go build -o bin/trackstack ./runtime/cmd/trackstack

.PHONY: run
run: ## Run the whole stack standalone on SQLite with the samples in config/samples/standalone.
	go run ./runtime/cmd/trackstack standalone -f $(RUN_CONFIG) --data $(RUN_DATA) --listen $(RUN_LISTEN) --demo-data

.PHONY: run-operator
run-operator: manifests generate ## Run the operator against the cluster in your kubeconfig.
	go run ./main.go

.PHONY: docker-build
docker-build: ## Build the operator and runtime images (needs a Docker engine).
	docker build -t $(IMG) --target operator .
	docker build -t $(RUNTIME_IMG) --target runtime .

.PHONY: docker-push
docker-push: ## Push the images.
	docker push $(IMG)
	docker push $(RUNTIME_IMG)

##@ Deployment

.PHONY: install
install: manifests ## Install the CRDs into the cluster in your kubeconfig.
	$(KUSTOMIZE) config/crd | $(KUBECTL) apply --server-side -f -

.PHONY: uninstall
uninstall: manifests ## Remove the CRDs (and with them every trackstack object).
	$(KUSTOMIZE) config/crd | $(KUBECTL) delete --ignore-not-found -f -

.PHONY: deploy
deploy: manifests ## Deploy the operator with image $(IMG).
	@mkdir -p bin/deploy && printf 'resources:\n- ../../config/default\nimages:\n- name: controller\n  newName: %s\n' "$(IMG)" >bin/deploy/kustomization.yaml
	$(KUSTOMIZE) bin/deploy | $(KUBECTL) apply --server-side -f -

.PHONY: undeploy
undeploy: ## Remove the operator.
	$(KUSTOMIZE) config/default | $(KUBECTL) delete --ignore-not-found -f -
