# syntax=docker/dockerfile:1
# Build: a static binary, no cgo (SQLite is pure Go).
FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=dev
RUN CGO_ENABLED=0 go build -trimpath -ldflags "-s -w -X main.version=${VERSION}" -o /out/earshot ./cmd/earshot

# Run: Debian slim for CA certificates, time zones and the optional local
# transcription tools; a non-root user owns the data directory.
FROM debian:bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates tzdata sox pocketsphinx pocketsphinx-en-us \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10001 --home-dir /var/lib/earshot --create-home earshot
COPY --from=build /out/earshot /usr/local/bin/earshot
USER earshot
WORKDIR /var/lib/earshot
# GOMEMLIMIT bounds the heap. GOGC=200 halves the collector's CPU: the
# daemon keeps a small live heap and allocates much per item (see
# bench/README.md).
ENV EARSHOT_CONFIG=/etc/earshot/earshot.yaml \
    GOMEMLIMIT=100MiB \
    GOGC=200
# 8080: http.listen; 9090: http.ops_listen (/readyz, /metrics) when set.
# The health check asks /healthz on http.listen's port.
EXPOSE 8080 9090
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s CMD ["earshot", "healthcheck"]
ENTRYPOINT ["earshot"]
CMD ["run"]
