// Package scenarios describes cqrsbench benchmarks: what data to load, which
// architectures to compare, which operations to run in what mix and at what
// offered load, which faults to inject, and which thresholds decide pass or
// fail. A scenario is a YAML file; the built-ins (smoke, mixed, read-heavy,
// burst, duplicates, …) are embedded in the binary.
//
// Get a scenario by built-in name or file path with Resolve, from a file
// with Load, or from bytes with Parse. Each returns a *Scenario whose every
// field holds the value the run will use (defaults filled in, as documented
// on each field) and that has been validated; the harness builds its runtime
// objects from it and never re-derives a default:
//
//	s, err := scenarios.Resolve("mixed") // or "my/scenario.yaml"
//	if err != nil {
//		// errors.As(err, new(*scenarios.Error)) holds for every input
//		// error: print it and exit 2.
//	}
//	s, err = s.WithOverrides(scenarios.Overrides{Rate: &rate})
//
// Bad input is reported all at once as an ErrorList, each *Error naming the
// file and line (or the flag) of the bad value and what to write instead:
//
//	mine.yaml:3: unknown field "rat" in load (did you mean "rate"?)
//	mine.yaml:4: load.rate: must be > 0 ops/s, got -5
//	mine.yaml:5: architectures[1]: unknown architecture "cqrs"; use one of crud, crud-replica, cqrs-sync, cqrs-matview, cqrs-kafka, cqrs-rabbitmq
//
// Thresholds are parsed into typed conditions (ParseThreshold): metric path,
// aggregate, operator, value and unit, e.g. "cqrs-kafka.list_orders.p99 <
// 5ms"; Threshold.Check compares an observed statistic with one.
//
// The file format, with every field and its default, is documented in
// scenarios/README.md.
package scenarios
