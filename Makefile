# communicator: two Cloudflare Workers in Go. `make dev` runs the system
# locally, `make test` runs every test. See README.md.

GO       ?= go
SERVICES := auth-telegram ingestor
GOROOT   := $(shell $(GO) env GOROOT)
VERSION  ?= $(shell git describe --always --dirty 2>/dev/null || echo dev)
WASM_ENV := GOOS=js GOARCH=wasm
# -s -w drop the symbol table and DWARF (panics still name functions).
WASM_FLAGS := -trimpath -ldflags "-s -w -X main.version=$(VERSION)"
# Packages whose tests also run as wasm under Node with the bridge's JavaScript half.
WASM_TEST_PKGS := ./workers/... ./telegramauth/... ./authrpc/... ./mtproto/... ./authclient/...
GO_JS_EXEC := $(CURDIR)/workers/js/go_js_wasm_exec

export WRANGLER_SEND_METRICS := false

.PHONY: all deps build build-testworkers generate check-generated dev dev-port test test-unit test-fuzz test-infra test-wasm test-e2e vet bench soak smoke clean

all: build

# The pinned wrangler (package-lock.json), installed from the npm registry.
# No install scripts are needed: workerd's binary comes in its platform package.
deps: node_modules/.bin/wrangler
node_modules/.bin/wrangler: package.json package-lock.json
	npm ci --ignore-scripts --no-audit --no-fund
	@touch $@

# build writes what each wrangler.toml's main points at: build/worker.mjs (the
# generated entry), runtime.mjs (the bridge), wasm_exec.js (from the Go that
# compiles app.wasm, so they always match) and app.wasm.
build: $(SERVICES:%=build-service-%)

build-service-%:
	$(call build_worker,./services/$*,services/$*/entry/worker.mjs,services/$*/build)

# The bridge test worker (e2e tests and benchmarks only).
build-testworkers:
	$(call build_worker,./e2e/bridgeworker,e2e/bridgeworker/entry/worker.mjs,e2e/bridgeworker/build)

# build_worker(package, entry module, output directory)
define build_worker
	@mkdir -p $(3)
	$(WASM_ENV) $(GO) build $(WASM_FLAGS) -o $(3)/app.wasm $(1)
	@cp $(GOROOT)/lib/wasm/wasm_exec.js workers/js/runtime.mjs $(3)/
	@cp $(2) $(3)/worker.mjs
endef

generate:
	$(GO) generate ./...

# make dev's one HTTP port (both workers, behind the local router): make dev
# PORT=8788. Only the command line sets it: a PORT in the environment, which
# other tools use, does not move make dev.
PORT = 8787

# The port is checked first, so that a busy one is reported before any build.
dev: dev-port deps build
	$(GO) run ./cmd/dev -port $(PORT)

dev-port:
	@$(GO) run ./cmd/devport -port $(PORT)

vet:
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { gofmt -l $$(git ls-files '*.go'); echo "gofmt needed"; exit 1; }
	$(GO) vet ./...
	$(WASM_ENV) $(GO) vet ./workers/... ./services/... ./telegramauth/... ./authrpc/... ./authclient/... ./authhttp/... ./httpapi/... ./ingestorhttp/... ./ingest/... ./mtproto/... ./accesspolicy/... ./vault/...
	cd infrastructure && $(GO) vet ./...

test: deps build vet test-unit test-fuzz test-infra test-wasm test-e2e

test-unit:
	$(GO) test -short -count=1 ./...

# A short run of each fuzz target beyond its seed corpus (the seeds run in test-unit).
# Bounded by a count of executions, not a duration: Go 1.26's fuzz coordinator can
# fail a run that found nothing with "context deadline exceeded" when a duration
# ends (go.dev/issue/75804, fixed in Go 1.27). A few seconds each on a 2-core
# machine: a key exchange costs milliseconds where a parse costs microseconds,
# and minimizing a new input is bounded too (by default it may run a minute).
FUZZ_PARSE_EXECS ?= 300000
FUZZ_EXCHANGE_EXECS ?= 600
test-fuzz:
	$(GO) test -run '^$$' -fuzz '^FuzzParse$$' -fuzztime $(FUZZ_PARSE_EXECS)x ./mtproto/sessionstring/
	$(GO) test -run '^$$' -fuzz '^FuzzServerAnswers$$' -fuzztime $(FUZZ_EXCHANGE_EXECS)x -fuzzminimizetime 5s ./mtproto/authkey/

# The Pulumi program (its own module) with Pulumi's mocks, and its reading of
# wrangler.toml compared with the pinned wrangler's (so not -short: it needs deps).
test-infra: deps
	cd infrastructure && $(GO) test -count=1 ./...

test-wasm:
	$(WASM_ENV) $(GO) test -count=1 -exec $(GO_JS_EXEC) $(WASM_TEST_PKGS)

test-e2e: deps build build-testworkers
	$(GO) test -count=1 -timeout 15m ./e2e/...

# Checks a running pair: make smoke URL=http://127.0.0.1:8787 (make dev), or
# make smoke AUTH_URL=https://... INGESTOR_URL=https://... (a deployment);
# EXPECT_TRANSPORT=http confirms a rollback. The ingestor's credentials:
# INGESTOR_API_KEY=... INGESTOR_SERVICE_ID=... (default operator; against make
# dev, its operator key). See docs/deploy.md.
smoke:
	$(GO) run ./cmd/smoke

bench: deps build build-testworkers
	$(GO) run ./bench/cmd/bench -out docs/benchmarks.md $(BENCH_FLAGS)

# Long runs in workerd (not part of make test): stalls after heavy work on the
# bridge pair, memory of both services under load. On the shared 2-core machine
# an iteration took about 5.6 s, so 500 of them are ~47 minutes: -budget cuts
# the bridge part short (docs/soak.md: 342 iterations in 32 minutes). A short
# run: make soak SOAK_FLAGS='-iterations 50 -requests 5000'.
SOAK_FLAGS ?=
soak: deps build build-testworkers
	$(GO) run ./bench/cmd/soak -out docs/soak.md $(SOAK_FLAGS)

clean:
	rm -rf services/*/build e2e/bridgeworker/build .wrangler
