# cqrsbench — `make help` lists the targets.
SHELL := /bin/bash
.DEFAULT_GOAL := help

GO        ?= go
BIN       := bin/cqrsbench
SCENARIO  ?= mixed
RUN_FLAGS ?=
TEST_FLAGS ?= -count=1 -timeout 18m

.PHONY: help build test test-short bench report smoke validity lint kafka docker-images clean

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

report: build ## HTML report (charts and tables) of the newest results file: results/report.html
	@latest=$$(ls -t results/*.json 2>/dev/null | head -1); \
	if [ -z "$$latest" ]; then echo "make report: no results/*.json yet; run make bench first"; exit 2; fi; \
	$(BIN) report "$$latest" -o results/report.html --force

smoke: build ## A 30-second end-to-end run of every architecture (SCENARIO=smoke)
	$(BIN) run smoke $(RUN_FLAGS)

validity: build ## Load-generator check: closed-loop list_orders, cqrsbench (scenario capacity) vs pgbench -M prepared, same SQL and 4 connections, 3 interleaved rounds; PIN=0 shares the CPUs
	@bash -c "$$VALIDITY_SCRIPT"

# The validity check. With PIN=1 (default, on 2+ CPUs) PostgreSQL runs on the
# last CPU and the client (either tool) on the others, as a load generator
# and its database would on separate machines; PIN=0 lets them share.
define VALIDITY_SCRIPT
set -uo pipefail
pgbench=$$(command -v pgbench || ls /usr/lib/postgresql/*/bin/pgbench 2>/dev/null | sort -V | tail -1)
[ -n "$$pgbench" ] || { echo "validity: pgbench not found (apt-get install postgresql-contrib or postgresql)"; exit 3; }
tmp=$$(mktemp -d); up=
trap '[ -n "$$up" ] && kill -INT $$up 2>/dev/null && wait $$up; rm -rf "$$tmp"' EXIT
$(BIN) infra up --infra local --rabbitmq=false --quiet > "$$tmp/up" 2> "$$tmp/up.err" & up=$$!
until grep -q '^CQRSBENCH_KAFKA_BROKERS=' "$$tmp/up"; do kill -0 $$up 2>/dev/null || { cat "$$tmp/up.err"; exit 3; }; sleep 0.2; done
dsn=$$(sed -n 's/^CQRSBENCH_PG_DSN=//p' "$$tmp/up")
client=()
last=$$(( $$(nproc) - 1 ))
if [ "$${PIN:-1}" = 1 ] && [ $$last -ge 1 ]; then
  for p in $$(pgrep -u "$$(ps -o user= -p $$(pgrep -n -f "postgres -D .* -p $${dsn##*:}" | head -1) 2>/dev/null || echo nobody)" postgres); do taskset -a -p -c $$last $$p > /dev/null 2>&1; done
  client=(taskset -c 0-$$(( last - 1 )))
  echo "PostgreSQL pinned to CPU $$last, clients to CPUs 0-$$(( last - 1 ))"
fi
printf '%s\n' '\set c random(1, 20000)' 'SELECT order_id, number, created_at, status, status_label, total_cents, item_count, first_image_url, version FROM cqrs_sync.order_read_model WHERE customer_id = :c ORDER BY created_at DESC, order_id DESC LIMIT 50;' > "$$tmp/list.sql"
cq=0; pg=0
for round in 1 2 3; do
  "$${client[@]}" $(BIN) run capacity --pg-dsn "$$dsn" --reset --quiet --out "$$tmp/results" > "$$tmp/run.txt" 2>&1 || { cat "$$tmp/run.txt"; exit 1; }
  c=$$(awk -F'|' '$$2 ~ /cqrs-sync/ && $$3 ~ /20/ {gsub(/ /, "", $$5); print $$5; exit}' "$$tmp/run.txt")
  p=$$("$${client[@]}" "$$pgbench" -n -M prepared -c 4 -j 2 -T 20 -f "$$tmp/list.sql" "$$dsn" 2>&1 | awk '/^tps/ {printf "%d", $$3}')
  echo "round $$round: cqrsbench $$c ops/s, pgbench $$p tps"
  cq=$$(( cq + c )); pg=$$(( pg + p ))
done
echo "mean: cqrsbench $$(( cq / 3 )) ops/s, pgbench $$(( pg / 3 )) tps: $$(( 100 * cq / pg ))% (target >= 90%)"
endef
export VALIDITY_SCRIPT

lint: ## gofmt and go vet
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...

kafka: build ## Assemble the Apache Kafka distribution from Maven Central into the user cache (needs java and mvn)
	$(BIN) infra fetch-kafka --if-missing

docker-images: kafka ## Build local images for --infra docker without a registry (starts dockerd if none answers; needs root, debootstrap)
	.ci/docker-images "$$($(BIN) infra kafka-dir)"

clean: ## Remove build output (not the Kafka cache: `rm -rf "$$(bin/cqrsbench infra kafka-dir)"`)
	rm -rf bin
