# Earshot's verbs. `make check` is the one test command: it starts the real
# services (scripts/services), vets, runs every test against them with the race
# detector, and always stops the services again.

SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c

PKGS ?= ./...
FUZZTIME ?= 60s
SERVICES := scripts/services

.PHONY: check services-up services-down test fuzz lint build demo

# check builds the binary exactly as the Dockerfile does, runs the
# embedded instance's smoke test with it, the reduced fault-injection run
# (bench.mk: kill -9, server restarts, UIDVALIDITY reset, two replicas),
# then every test; the test summary is the last line.
check:
	trap '$(SERVICES) down' EXIT; \
	go vet $(PKGS); \
	$(MAKE) --no-print-directory build; \
	bin/earshot dev -smoke -http 18026 -imap 11144 -smtp 11027; \
	$(SERVICES) up; \
	set -a; . .services/env; set +a; \
	$(MAKE) --no-print-directory faults-ci; \
	go test -race -count=1 -json $(PKGS) | go run ./internal/tools/testsummary

# demo runs the whole product on 127.0.0.1 with sample data: see README.md.
demo:
	go run ./cmd/earshot dev

services-up:
	$(SERVICES) up

services-down:
	$(SERVICES) down

test:
	go test ./...

fuzz:
	go test ./intake -run x -fuzz FuzzNormalize -fuzztime $(FUZZTIME)

lint:
	@unformatted=$$(gofmt -l .); \
	if [ -n "$$unformatted" ]; then echo "gofmt would change:"; echo "$$unformatted"; exit 1; fi
	go vet ./...

# build makes bin/earshot with the Dockerfile's flags.
build:
	CGO_ENABLED=0 go build -trimpath -ldflags "-s -w -X main.version=$(VERSION)" -o bin/earshot ./cmd/earshot

VERSION ?= $(shell git describe --always --dirty 2>/dev/null || echo dev)

-include bench.mk
