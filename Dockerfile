# syntax=docker/dockerfile:1
# Two images from one build (see `make docker-build`):
#   docker build --target runtime  -t ghcr.io/trackstack/trackstack:dev .   collector, forwarder,
#                                                                         dashboard, retention, standalone
#   docker build --target operator -t ghcr.io/trackstack/operator:dev .     the operator (default target)
# Both are static Go binaries on distroless, running as uid 65532, and need no
# writable root filesystem.

# Compiles on the build machine's platform and cross-compiles for the target
# (docker buildx build --platform linux/amd64,linux/arm64 ...).
FROM --platform=$BUILDPLATFORM golang:1.26 AS builder
ARG TARGETOS=linux
ARG TARGETARCH
WORKDIR /src

# Modules first: a source change then reuses the downloaded modules layer.
COPY go.mod go.sum ./
RUN --mount=type=cache,target=/go/pkg/mod go mod download

COPY . .
# CGO_ENABLED=0: fully static binaries, so the images need no libc.
# runtime/cmd/trackstack is built when present (the runtime may not exist yet
# in an early checkout; the runtime target then fails at its COPY).
RUN --mount=type=cache,target=/go/pkg/mod \
    --mount=type=cache,target=/root/.cache/go-build \
    set -eu; \
    export CGO_ENABLED=0 GOOS="${TARGETOS}" GOARCH="${TARGETARCH}"; \
    mkdir -p bin; \
    go build -trimpath -ldflags="-s -w" -o bin/manager .; \
    if [ -d runtime/cmd/trackstack ]; then \
      go build -trimpath -ldflags="-s -w" -o bin/trackstack ./runtime/cmd/trackstack; \
    else \
      echo "runtime/cmd/trackstack not found: building the operator only"; \
    fi

# The runtime: one binary with the subcommands collect, forward, dashboard,
# retention, migrate and standalone. It writes only to mounted volumes (its
# data directory, /tmp as an emptyDir), so it runs with a read-only root
# filesystem; configuration and Secrets are mounted read-only under /etc/trackstack.
FROM gcr.io/distroless/static:nonroot AS runtime
LABEL org.opencontainers.image.title="trackstack" \
      org.opencontainers.image.description="trackstack runtime: collector, forwarders, dashboard, retention" \
      org.opencontainers.image.source="https://github.com/trackstack/trackstack"
WORKDIR /
COPY --from=builder /src/bin/trackstack /trackstack
USER 65532:65532
ENTRYPOINT ["/trackstack"]

# The operator. Last, so a plain `docker build .` builds it, as in every
# kubebuilder project.
FROM gcr.io/distroless/static:nonroot AS operator
LABEL org.opencontainers.image.title="trackstack-operator" \
      org.opencontainers.image.description="trackstack operator: runs TrackingSites, Destinations and RetentionPolicies" \
      org.opencontainers.image.source="https://github.com/trackstack/trackstack"
WORKDIR /
COPY --from=builder /src/bin/manager /manager
USER 65532:65532
ENTRYPOINT ["/manager"]
