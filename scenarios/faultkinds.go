package scenarios

import (
	"slices"
	"time"

	"github.com/cqrsbench/cqrsbench/reference"
	"github.com/cqrsbench/cqrsbench/reference/catalog"
)

// faultSpec declares one fault kind: the fields it takes besides kind and
// arch, the default and meaning of its duration, and what it needs of an
// architecture. Defaults of the fields only one kind takes (fraction,
// method, point, events, after_load) sit in defaultFault; the injection of
// each kind is harness/bench's.
type faultSpec struct {
	kind   FaultKind
	fields fieldSet
	// duration is the default of Fault.Duration; durationRequired makes 0
	// an error.
	duration         time.Duration
	durationRequired bool
	// points are the crash points it takes (the field point), the default
	// first.
	points []CrashPoint
	// needs is what an architecture must offer, in words, and the check.
	needs     string
	hasNeeded func(catalog.Descriptor) bool
}

// pipeline reports whether d feeds its read models through an event
// pipeline.
func pipeline(d catalog.Descriptor) bool { return catalog.Offers[reference.Pipeline](d) }

// faultSpecs is the one table of fault kinds, in documentation order.
func faultSpecs() []faultSpec {
	return []faultSpec{
		{kind: FaultDuplicates, fields: fieldSet{"at", "duration", "fraction", "method"},
			needs: "an event pipeline", hasNeeded: pipeline},
		{kind: FaultRelayCrash, fields: fieldSet{"at", "every", "count", "point"}, points: []CrashPoint{CrashAfterAck, CrashBeforePublish},
			needs: "an event pipeline", hasNeeded: pipeline},
		{kind: FaultProjectorCrash, fields: fieldSet{"at", "every", "count", "point"}, points: []CrashPoint{CrashAfterCommit, CrashAfterInbox},
			needs: "an event pipeline", hasNeeded: pipeline},
		{kind: FaultBrokerRestart, fields: fieldSet{"at", "every", "count", "duration"}, duration: 10 * time.Second,
			needs: "an event pipeline", hasNeeded: pipeline},
		{kind: FaultPGRestart, fields: fieldSet{"at", "every", "count", "duration"}, duration: 3 * time.Second,
			hasNeeded: func(catalog.Descriptor) bool { return true }},
		{kind: FaultPoison, fields: fieldSet{"at", "every", "count"},
			needs: "a pipeline that takes poison messages", hasNeeded: catalog.Offers[reference.Poisonable]},
		{kind: FaultVisibilityGap, fields: fieldSet{"at", "every", "count", "duration"}, duration: 2 * time.Second, durationRequired: true,
			needs:     "an outbox pipeline whose commands run in a held transaction",
			hasNeeded: func(d catalog.Descriptor) bool { return pipeline(d) && catalog.Offers[reference.TxExecutor](d) }},
		{kind: FaultCatchUp, fields: fieldSet{"at", "events", "duration"}, duration: 60 * time.Second, durationRequired: true,
			needs: "a projector that can be paused", hasNeeded: catalog.Offers[reference.Pausable]},
		{kind: FaultRebuild, fields: fieldSet{"at", "after_load"},
			needs: "read models that can be rebuilt", hasNeeded: catalog.Offers[reference.Rebuildable]},
		{kind: FaultReplicaPause, fields: fieldSet{"at", "every", "count", "duration"}, duration: 5 * time.Second, durationRequired: true,
			needs: "a streaming replica it reads", hasNeeded: readsReplica},
		{kind: FaultReplicaRestart, fields: fieldSet{"at", "every", "count", "duration"}, duration: 3 * time.Second,
			needs: "a streaming replica it reads", hasNeeded: readsReplica},
	}
}

// readsReplica reports whether d reads a streaming replica.
func readsReplica(d catalog.Descriptor) bool { return slices.Contains(d.Needs, catalog.Replica) }

// specOf returns kind k's spec; ok is false for an unknown kind.
func specOf(k FaultKind) (faultSpec, bool) {
	specs := faultSpecs()
	i := slices.IndexFunc(specs, func(s faultSpec) bool { return s.kind == k })
	if i < 0 {
		return faultSpec{}, false
	}
	return specs[i], true
}

// FaultKinds returns every fault kind.
func FaultKinds() []FaultKind {
	var out []FaultKind
	for _, s := range faultSpecs() {
		out = append(out, s.kind)
	}
	return out
}

// Needs says what an architecture must offer for a fault of kind k to be
// injected into it, in words, and whether d's systems offer it.
func (k FaultKind) Needs(d catalog.Descriptor) (what string, ok bool) {
	s, known := specOf(k)
	if !known {
		return "a known fault kind", false
	}
	return s.needs, s.hasNeeded(d)
}

// AppliesTo reports whether fault f is injected into arch's run in s: f
// names arch, or names none and arch offers, as s runs it
// (Scenario.Descriptor), what f's kind needs.
func (f Fault) AppliesTo(arch Arch, s *Scenario) bool {
	if f.Arch != "" {
		return f.Arch == arch
	}
	d, ok := s.Descriptor(arch)
	if !ok {
		return false
	}
	_, ok = f.Kind.Needs(d)
	return ok
}
