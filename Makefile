# Earshot's verbs. `make check` is the one test command: it starts the real
# services (scripts/services), vets, runs every test against them with the race
# detector, and always stops the services again.

SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c

PKGS ?= ./...
FUZZTIME ?= 60s
SERVICES := scripts/services

.PHONY: check services-up services-down test fuzz lint build

check:
	trap '$(SERVICES) down' EXIT; \
	go vet $(PKGS); \
	$(SERVICES) up; \
	set -a; . .services/env; set +a; \
	go test -race -count=1 -json $(PKGS) | go run ./internal/tools/testsummary

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

build:
	CGO_ENABLED=0 go build -trimpath -ldflags "-s -w" -o bin/earshot ./cmd/earshot
