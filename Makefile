# ratewarden — every target runs from a fresh clone. `make test` is what CI runs.
SHELL      := /bin/bash
GO         ?= go
TESTFLAGS  ?= -race -count=1 -shuffle=on
# A count, not a duration: a -fuzztime duration races Go 1.26's fuzz coordinator on a loaded
# machine and fails with a bare "context deadline exceeded" (go.dev/issue/75804, fixed in 1.27).
FUZZTIME   ?= 50000x
# FuzzAPIKey (a whole Limiter decision) and the configuration loader's targets (a file
# written and parsed, the whole config validated) run 2-10 times slower per input: they get a
# tenth of the count, so that `make fuzz` stays within about a minute on 2 cores. A FUZZTIME
# given on the command line applies to them as well.
ifeq ($(origin FUZZTIME),command line)
SLOW_FUZZTIME ?= $(FUZZTIME)
else
SLOW_FUZZTIME ?= 5000x
endif
PROPERTY_RUNS ?= 20
MODULES    := $(shell $(GO) list -m -f '{{.Dir}}' | sed "s|^$(CURDIR)/||")
GOLANGCI   := $(CURDIR)/bin/golangci-lint

DOCS       := README.md $(wildcard docs/*.md)

.PHONY: test tidy-check unit bench-smoke docs-check config-ref fuzz redis-deps lint cover cover-branches bench bench-report loadtest tidy demo release

## test: every module's tests with -race and shuffling (the tools/ module's include the
## go-get consumer test and the go.mod checks), the docs' code, then the fuzz targets briefly.
test: redis-deps tidy-check unit bench-smoke docs-check fuzz

unit:
	$(GO) vet work
	$(GO) test $(TESTFLAGS) work

## docs-check: docs/configuration.md's key tables are current (make config-ref), every
## ```go block of the docs builds against the workspace, every ```toml
## block loads with core's loader (tools/docscheck says how to mark a fragment), and every
## ```sh block of docs/cli.md that runs `ratewarden` prints the output shown under it
## (cmd/ratewarden's TestDocs, against a real redis-server).
docs-check: redis-deps
	$(GO) run ./tools/configref -check docs/configuration.md
	$(GO) run ./tools/docscheck $(DOCS)
	$(GO) test -count=1 -run '^TestDocs$$' ./cmd/ratewarden

## config-ref: regenerate the key tables of docs/configuration.md from core/config (types,
## defaults, environment names, config.Reference's rules); tools/configref's test, in
## `make test`, fails when they are out of date.
config-ref:
	$(GO) run ./tools/configref docs/configuration.md

## fuzz: each fuzz target for $(FUZZTIME) inputs ($(SLOW_FUZZTIME) for the slower API key
## and configuration targets), then the policy-change property test for $(PROPERTY_RUNS)
## random sequences per algorithm (3 in the unit run). docs/testing-redis.md lists the
## targets. Longer:
## make fuzz FUZZTIME=5000000x PROPERTY_RUNS=500
fuzz:
	$(GO) test -run=NONE -fuzz='^FuzzForwardedFor$$' -fuzztime=$(FUZZTIME) ./core/clientip
	$(GO) test -run=NONE -fuzz='^FuzzForwarded$$' -fuzztime=$(FUZZTIME) ./core/clientip
	$(GO) test -run=NONE -fuzz='^FuzzPattern$$' -fuzztime=$(FUZZTIME) ./core/internal/pattern
	$(GO) test -run=NONE -fuzz='^FuzzIdentify$$' -fuzztime=$(FUZZTIME) ./core/jwtauth
	$(GO) test -run=NONE -fuzz='^FuzzAPIKey$$' -fuzztime=$(SLOW_FUZZTIME) ./core
	$(GO) test -run=NONE -fuzz='^FuzzLoadTOML$$' -fuzztime=$(SLOW_FUZZTIME) ./core/configfile
	$(GO) test -run=NONE -fuzz='^FuzzEnv$$' -fuzztime=$(SLOW_FUZZTIME) ./core/configfile
	RATEWARDEN_PROPERTY_RUNS=$(PROPERTY_RUNS) $(GO) test -count=1 -run='^TestPolicyChangesNeverOverAdmit$$' ./backends/redisstore

## redis-deps: install redis-server, redis-sentinel and redis-cli when missing.
redis-deps:
	@bash scripts/install-redis.sh

## lint: go vet and golangci-lint (installed into ./bin on first use).
lint:
	$(GO) vet work
	@test -x $(GOLANGCI) || GOBIN=$(CURDIR)/bin $(GO) install github.com/golangci/golangci-lint/v2/cmd/golangci-lint@v2.6.2
	@for m in $(MODULES); do echo "golangci-lint $$m"; (cd $$m && $(GOLANGCI) run ./...) || exit 1; done

## cover: per-module statement coverage, then branch coverage (cover-branches); profiles
## and reports in coverage/. Not part of `make test` (2.5-4.5 min on 2 cores). Fails when
## core, an adapter or a backend is under $(COVER_MIN) % of statements (after printing every
## module); the other modules are only reported (their tests run with -short). Those
## packages are measured together: each counts the tests of every one of those modules,
## since core's conformance suites (storetest, adaptertest) run in the backends' and
## adapters' tests. Nothing is excluded (there is no generated code). tools/cover's package
## comment says more.
COVER_MIN  ?= 90
## cover-branches: branch coverage of the same packages, measured the way gobco does (each
## condition seen true and false, each switch clause run; gobco itself is not served by the
## module proxy): per package and module, failing when a module is under $(BRANCH_MIN) %;
## the branches never taken are listed in coverage/branches-uncovered.txt.
BRANCH_MIN ?= 80
cover:
	$(GO) run ./tools/cover statements -min $(COVER_MIN)
	$(MAKE) --no-print-directory cover-branches

cover-branches:
	$(GO) run ./tools/cover branches -min $(BRANCH_MIN)

## bench-smoke: every benchmark once, so that none rots between benchmark runs (about 20 s);
## -short keeps BenchmarkMemoryGrowth to its 1k-key size.
bench-smoke:
	$(GO) test -count=1 -short -run=NONE -bench=. -benchtime=1x work

## bench: the benchmarks of every module.
bench:
	$(GO) test -run=NONE -bench=. -benchmem work

## bench-report: run the memory, middleware and Redis benchmarks (-count=3, about ten
## minutes; Redis on a redis-server of its own), profile the ones that miss a SPEC 9 target,
## and regenerate docs/benchmarks.md, its SVG charts and docs/benchmarks.txt (the raw
## output). REPORT_FLAGS='-in FILE' reads a saved output instead; '-redis-benchtime ""'
## leaves Redis out.
bench-report: redis-deps
	$(GO) run ./benchmarks/report $(REPORT_FLAGS)

## loadtest: the SPEC 9 load test (about 3 minutes, not part of `make test`): examples/gin
## as its own process, driven by vegeta from 100 clients at 1,000 and 2,000 req/s on the memory
## and Redis backends, then the 1,500-request burst; prints tables and writes
## benchmarks/results/loadtest.json (benchmarks/README.md describes it).
loadtest: redis-deps
	RATEWARDEN_LOAD=1 $(GO) test -run '^TestLoad$$' -count=1 -v -timeout 20m ./benchmarks

## tidy-check: every module's go.mod and go.sum are tidy on their own, without go.work: a
## module that builds only thanks to the workspace (a require missing) fails here.
## A command module (cmd/*) has no replace lines (go install refuses them): scripts/tidy-command.sh
## tidies it in a copy that replaces its siblings by their directories.
tidy-check:
	@for m in $(MODULES); do \
		case $$m in \
		cmd/*) bash scripts/tidy-command.sh $$m -diff || exit 1 ;; \
		*) (cd $$m && GOWORK=off $(GO) mod tidy -diff) || { echo "$$m: go.mod or go.sum is not tidy (make tidy)"; exit 1; } ;; \
		esac; \
	done

## tidy: go mod tidy everywhere; fails when a go.mod or go.sum changed.
tidy:
	@for m in $(MODULES); do \
		case $$m in \
		cmd/*) bash scripts/tidy-command.sh $$m || exit 1 ;; \
		*) (cd $$m && $(GO) mod tidy) || exit 1 ;; \
		esac; \
	done
	@git diff --exit-code -- '*go.mod' '*go.sum'

## demo: the quickstart scenario (docs/quickstart.md).
demo:
	@echo "make demo: building the demo (the first build downloads modules and can take a few minutes)..."
	$(GO) run ./examples/demo

## release: move the module set to VERSION (every sibling require, versions.txt, the
## README's go get lines) and print the tags to create (docs/versioning.md).
release:
	@test -n "$(VERSION)" || { echo "usage: make release VERSION=vX.Y.Z" >&2; exit 2; }
	$(GO) run ./tools/release $(VERSION)
