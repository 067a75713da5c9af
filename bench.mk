# Benchmarks and fault injection (see bench/README.md). Included from the
# Makefile. Every target runs on private PostgreSQL, Dovecot and SMTP
# servers that bench/run.sh starts and stops itself: the shared test
# services are never touched. Results go to bench/results/ as JSON.

BENCH_N ?= 2000,10000
# The peer run on the same mail: n8n (installed once into
# /var/cache/earshot-bench/n8n from ../shared/peers/n8n) or none.
BENCH_PEER ?= n8n
BENCH_FLAGS ?=
FAULTS_N ?= 10000
FAULTS_K ?= 5
FAULTS_FLAGS ?=

.PHONY: bench bench-profile faults faults-ci abuse abuse-ci

# CPU per item, throughput against a raw IMAP fetch, PostgreSQL's own
# floor and the n8n peer, peak memory at each size, and the append-to-ack
# latency of a daemon sitting in IDLE. BENCH_FLAGS="-label before" writes
# a results file meant to be committed (bench/README.md).
bench:
	bench/run.sh bench -n $(BENCH_N) -peer=$(BENCH_PEER) $(BENCH_FLAGS)

# The throughput run under the profiling build: CPU and allocation
# profiles in bench/results/profile/ (go tool pprof bin/earshot-pprof FILE).
bench-profile:
	bench/run.sh bench -n $(lastword $(subst $(comma), ,$(BENCH_N))) -profile bench/results/profile -peer=none $(BENCH_FLAGS)

# kill -9 during ingest, Dovecot and PostgreSQL restarts, a UIDVALIDITY
# reset and two replicas, each followed by invariant checks.
faults:
	bench/run.sh faults -n $(FAULTS_N) -k $(FAULTS_K) $(FAULTS_FLAGS)

# The same at N=1,000 and K=3 with 10 s leases (the shortest the
# configuration allows), in about a minute; exits non-zero on any
# violated invariant and ends with "N passed, N failed".
faults-ci:
	bench/run.sh faults -ci

comma := ,

# An outsider's attacks against a running daemon (forged strangers, a
# forged rep, spelled-out cap evasions, a spoofed caller ID, a large text
# mail), printed as a table: attack, expected, seen.
abuse:
	bench/run.sh abuse

# The same at a reduced size, as make check runs it.
abuse-ci:
	bench/run.sh abuse -ci
