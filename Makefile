# Earshot's verbs. `make check` is the one test command: it starts the real
# services (scripts/services), vets, runs every test against them with the race
# detector, and always stops the services again.

SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c

PKGS ?= ./...
FUZZTIME ?= 60s
SERVICES := scripts/services

.PHONY: check stress services-up services-down test fuzz lint build demo

# check is the one test command (scripts/check): it builds the binary as
# the Dockerfile does, vets every package, runs the embedded instance's
# smoke test, installs and starts the real services, runs the reduced
# fault-injection and abuse passes (bench.mk: kill -9, server restarts,
# UIDVALIDITY reset, two replicas, forged senders) and every test
# (scripts/gotest: with the race detector but for a few single-goroutine
# packages), stops the services, and prints the summary last.
check:
	scripts/check

# stress runs the packages that talk to real services or wait on
# goroutines STRESS_COUNT times under the race detector while two CPU
# burners compete for the cores, as on a small shared CI machine. Run it
# before a change to anything concurrent; it must pass every time.
STRESS_PKGS ?= ./pipeline ./store ./web ./transcribe ./intake/... ./dev ./cmd/... ./outbound
STRESS_COUNT ?= 3
# Each package's binary runs its tests STRESS_COUNT times beside the
# burners: go test's default 10 min per binary is too short for that.
STRESS_TIMEOUT ?= 40m
# As many test binaries at once as make check runs (scripts/gotest).
STRESS_P ?= 4
stress:
	burners=(); \
	trap 'kill $${burners[@]} 2>/dev/null || true; $(SERVICES) down; cat .services/stress-report 2>/dev/null' EXIT; \
	rm -f .services/stress-report; \
	$(SERVICES) up; \
	set -a; . .services/env; set +a; \
	for i in 1 2; do yes >/dev/null & burners+=($$!); done; \
	TEST_P=$(STRESS_P) scripts/gotest -count=$(STRESS_COUNT) -timeout $(STRESS_TIMEOUT) -- $(STRESS_PKGS) | go run ./internal/tools/testsummary -report .services/stress-report

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
