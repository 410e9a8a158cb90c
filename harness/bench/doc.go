// Package bench runs a scenario: for each architecture it loads the
// dataset into the architecture's schema, builds its read models, drives it
// with the scenario's open-model load (harness/runner), classifies every
// list_orders read as fresh or stale against the writes committed before
// it, probes a sample of writes until a query sees them, waits until the
// architecture has caught up, and gathers everything into a results.Run.
//
//	run, err := bench.Run(ctx, bench.Config{Scenario: sc, Infra: env, Progress: os.Stderr})
package bench
