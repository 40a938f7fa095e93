# syntax=docker/dockerfile:1
#
# One image for the whole platform: the four services and the `coalition` CLI, each a
# separate binary under /app. docker-compose.yml picks the binary per service with
# `command:`; there is deliberately no ENTRYPOINT.
#
#   docker build -t coalition:local .
#   docker run --rm coalition:local /app/coalition --help

ARG SWIFT_IMAGE=swift:6.3.1-noble
ARG RUNTIME_IMAGE=ubuntu:24.04

# ---------------------------------------------------------------------------- build
FROM ${SWIFT_IMAGE} AS build

# Ubuntu 24.04 ships librdkafka 2.3 (>= 2.1, which current brokers need) and libpq 16.
# Package.swift adds -I/usr/include/postgresql; its .local/librdkafka paths do not exist
# here and are skipped by the compiler and the linker.
RUN export DEBIAN_FRONTEND=noninteractive DEBCONF_NONINTERACTIVE_SEEN=true \
    && apt-get -q update \
    && apt-get -q install -y --no-install-recommends librdkafka-dev libpq-dev \
    && rm -rf /var/lib/apt/lists/*

WORKDIR /build

# Resolve dependencies first, into the same cache mount the build uses, so that this step
# is skipped while only sources change. Package.resolved is not tracked: a local one is
# honoured, otherwise versions are resolved from Package.swift's requirements.
COPY Package.* ./
RUN --mount=type=cache,target=/build/.build swift package resolve

COPY . .

ARG PRODUCTS="incident-ingestion alert-fanout meeting-scheduler metrics-aggregator coalition"

# The build folder lives in a cache mount, so everything the runtime image needs is
# copied to /staging inside the same step: the binaries, every SwiftPM resource bundle
# (Coalition_Migrations.resources holds the ordered migration SQL and must sit next to
# the binaries) and the static crash backtracer.
RUN --mount=type=cache,target=/build/.build \
    set -eu \
    && for product in ${PRODUCTS}; do \
         swift build -c release --static-swift-stdlib --product "${product}"; \
       done \
    && bin="$(swift build -c release --show-bin-path)" \
    && mkdir -p /staging \
    && for product in ${PRODUCTS}; do cp "${bin}/${product}" /staging/; done \
    && find -L "${bin}/" -maxdepth 1 -regex '.*\.resources$' -exec cp -Ra {} /staging/ \; \
    && test -d /staging/Coalition_Migrations.resources \
    && cp /usr/libexec/swift/linux/swift-backtrace-static /staging/ \
    && chmod -R a+rX,go-w /staging

# -------------------------------------------------------------------------- runtime
FROM ${RUNTIME_IMAGE}

# The Swift standard library and Foundation are linked statically; the rest is what the
# binaries (librdkafka, libpq), TLS, time zones and the compose health checks need.
RUN export DEBIAN_FRONTEND=noninteractive DEBCONF_NONINTERACTIVE_SEEN=true \
    && apt-get -q update \
    && apt-get -q install -y --no-install-recommends \
         librdkafka1 libpq5 ca-certificates tzdata curl \
    && rm -rf /var/lib/apt/lists/*

# Binaries stay owned by root (read-only to the service); the processes run unprivileged.
RUN useradd --system --user-group --no-create-home --home-dir /app \
      --shell /usr/sbin/nologin coalition

WORKDIR /app
COPY --from=build /staging /app

ENV PATH="/app:${PATH}" \
    SWIFT_BACKTRACE="enable=yes,sanitize=yes,threads=all,images=all,interactive=no,swift-backtrace=/app/swift-backtrace-static" \
    COALITION_HTTP_HOST=0.0.0.0 \
    COALITION_LOG_FORMAT=json \
    MALLOC_ARENA_MAX=2

USER coalition:coalition

# incident-ingestion, alert-fanout, meeting-scheduler, metrics-aggregator
EXPOSE 8081 8082 8083 8084

CMD ["/app/coalition", "--help"]
