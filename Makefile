# cqrsbench — `make help` lists the targets.
SHELL := /bin/bash
.DEFAULT_GOAL := help

GO        ?= go
BIN       := bin/cqrsbench
SCENARIO  ?= mixed
RUN_FLAGS ?=
TEST_FLAGS ?= -count=1 -timeout 18m

.PHONY: help build test test-short bench smoke lint kafka clean

help: ## Show this help
	@awk 'BEGIN {FS = ":.*## "} /^[a-zA-Z_-]+:.*## / {printf "  \033[1m%-12s\033[0m %s\n", $$1, $$2}' $(MAKEFILE_LIST)

build: ## Build bin/cqrsbench
	$(GO) build -o $(BIN) ./cmd/cqrsbench

test: ## Run every test this machine can run (real PostgreSQL and Kafka; `make kafka` first for a real broker)
	$(GO) test $(TEST_FLAGS) ./...

test-short: ## Run only the tests that need no services
	$(GO) test -short -count=1 ./...

bench: build ## Run the default suite (SCENARIO=mixed) on the best infrastructure available; fills the Kafka cache first (best effort)
	@$(BIN) infra fetch-kafka --if-missing || echo "make bench: could not assemble Kafka (needs java and mvn); continuing, the run will say what it used"
	$(BIN) run $(SCENARIO) $(RUN_FLAGS)

smoke: build ## A 30-second end-to-end run of every architecture (SCENARIO=smoke)
	$(BIN) run smoke $(RUN_FLAGS)

lint: ## gofmt and go vet
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...

kafka: build ## Assemble the Apache Kafka distribution from Maven Central into the user cache (needs java and mvn)
	$(BIN) infra fetch-kafka --if-missing

clean: ## Remove build output (not the Kafka cache: `rm -rf "$$(bin/cqrsbench infra kafka-dir)"`)
	rm -rf bin
