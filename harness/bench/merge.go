package bench

import (
	"cmp"
	"slices"

	"github.com/cqrsbench/cqrsbench/harness/hist"
	"github.com/cqrsbench/cqrsbench/harness/results"
)

// mergeArchitecture adds res to list, merging it with an earlier round of
// the same architecture (interleaved runs): counts add up, histograms merge,
// rates are recomputed over the summed durations.
func mergeArchitecture(list []results.Architecture, res results.Architecture) []results.Architecture {
	for i := range list {
		if list[i].Name == res.Name {
			list[i] = mergeRounds(list[i], res)
			return list
		}
	}
	return append(list, res)
}

func mergeRounds(a, b results.Architecture) results.Architecture {
	m := a
	m.LoadSeconds += b.LoadSeconds
	m.SetupSeconds += b.SetupSeconds
	m.CatchUpSeconds = max(a.CatchUpSeconds, b.CatchUpSeconds)
	l, lb := &m.Load, b.Load
	l.DurationSeconds += lb.DurationSeconds
	l.Scheduled += lb.Scheduled
	l.Completed += lb.Completed
	l.Errors += lb.Errors
	l.Late += lb.Late
	l.Queued += lb.Queued
	l.Dropped += lb.Dropped
	l.WarmupOps += lb.WarmupOps
	if l.DurationSeconds > 0 {
		l.OfferedRate = float64(l.Scheduled) / l.DurationSeconds
		l.AchievedRate = float64(l.Completed) / l.DurationSeconds
	}
	m.Ops = nil
	for _, op := range a.Ops {
		for _, opb := range b.Ops {
			if opb.Name != op.Name {
				continue
			}
			op.Count += opb.Count
			op.Errors += opb.Errors
			op.Late += opb.Late
			op.Dropped += opb.Dropped
			for k, v := range opb.ErrorKind {
				if op.ErrorKind == nil {
					op.ErrorKind = map[string]int64{}
				}
				op.ErrorKind[k] += v
			}
			op.Latency = mergeStats(op.Latency, opb.Latency)
			op.Service = mergeStats(op.Service, opb.Service)
			if l.DurationSeconds > 0 {
				op.Rate = float64(op.Count) / l.DurationSeconds
			}
		}
		m.Ops = append(m.Ops, op)
	}
	m.Staleness.Reads += b.Staleness.Reads
	m.Staleness.Stale += b.Staleness.Stale
	if m.Staleness.Reads > 0 {
		m.Staleness.Rate = float64(m.Staleness.Stale) / float64(m.Staleness.Reads)
	}
	m.Staleness.Age = mergeStats(a.Staleness.Age, b.Staleness.Age)
	m.Staleness.OwnWriteReads += b.Staleness.OwnWriteReads
	m.Staleness.OwnWriteStale += b.Staleness.OwnWriteStale
	if a.ReadYourWrites == nil {
		m.ReadYourWrites = b.ReadYourWrites
	} else if b.ReadYourWrites != nil {
		rw := *a.ReadYourWrites
		rw.Redirected += b.ReadYourWrites.Redirected
		rw.Waited += b.ReadYourWrites.Waited
		rw.TimedOut += b.ReadYourWrites.TimedOut
		m.ReadYourWrites = &rw
	}
	m.Consistency = mergeConsistency(a.Consistency, b.Consistency)
	m.Faults = mergeFaults(a.Faults, b.Faults)
	m.Lag = mergeLag(a.Lag, b.Lag)
	m.Refresh = mergeRefresh(a.Refresh, b.Refresh)
	m.Cost = mergeCost(a.Cost, b.Cost)
	m.Rounds = append(slices.Clone(a.Rounds), b.Rounds...)
	return m
}

// mergeLag merges two rounds' lag: every stage by name (in the first
// round's order, stages only the second has after them) and the prober's.
func mergeLag(a, b *results.Lag) *results.Lag {
	if a == nil || b == nil {
		return cmp.Or(a, b)
	}
	m := *a
	m.Stages = nil
	for _, st := range a.Stages {
		if sb, ok := b.Stage(st.Name); ok {
			st.Stats = mergeStats(st.Stats, sb.Stats)
		}
		m.Stages = append(m.Stages, st)
	}
	for _, sb := range b.Stages {
		if _, ok := a.Stage(sb.Name); !ok {
			m.Stages = append(m.Stages, sb)
		}
	}
	m.Visible = mergeStats(a.Visible, b.Visible)
	m.Replica = mergeReplicaLag(a.Replica, b.Replica)
	m.Slot = mergeSlotLag(a.Slot, b.Slot)
	m.ProbeTimeouts += b.ProbeTimeouts
	m.ProbeQueries += b.ProbeQueries
	m.ProbesSkipped += b.ProbesSkipped
	return &m
}

// mergeReplicaLag adds up two rounds' samples of a replica's lag.
func mergeReplicaLag(a, b *results.ReplicaLag) *results.ReplicaLag {
	if a == nil || b == nil {
		return cmp.Or(a, b)
	}
	return &results.ReplicaLag{Samples: a.Samples + b.Samples, Queries: a.Queries + b.Queries,
		BytesBehindMax: max(a.BytesBehindMax, b.BytesBehindMax), ReplayAge: mergeStats(a.ReplayAge, b.ReplayAge)}
}

// mergeSlotLag adds up two rounds' samples of a WAL relay's slot.
func mergeSlotLag(a, b *results.SlotLag) *results.SlotLag {
	if a == nil || b == nil {
		return cmp.Or(a, b)
	}
	return &results.SlotLag{Samples: a.Samples + b.Samples, BehindBytesMax: max(a.BehindBytesMax, b.BehindBytesMax),
		RetainedBytesMax: max(a.RetainedBytesMax, b.RetainedBytesMax), InactiveSamples: a.InactiveSamples + b.InactiveSamples, Lost: a.Lost || b.Lost}
}

// mergeRefresh adds up two rounds' materialized-view refreshes.
func mergeRefresh(a, b *results.Refresh) *results.Refresh {
	if a == nil || b == nil {
		return cmp.Or(a, b)
	}
	return &results.Refresh{Count: a.Count + b.Count, Errors: a.Errors + b.Errors, Stats: mergeStats(a.Stats, b.Stats)}
}

// mergeStats merges two summaries through their encoded histograms; when
// either has none, the one with more samples wins.
func mergeStats(a, b results.Stats) results.Stats {
	ha, errA := hist.DecodeSnapshot(a.Histogram, 0)
	hb, errB := hist.DecodeSnapshot(b.Histogram, 0)
	if a.Histogram == "" || b.Histogram == "" || errA != nil || errB != nil {
		if b.Count > a.Count {
			return b
		}
		return a
	}
	s, err := results.StatsFrom(ha.Merge(hb))
	if err != nil {
		return a
	}
	return s
}

// mergeConsistency adds up two rounds' checks: damage in either round
// counts (the tables of the round with more violations are kept as the
// samples).
func mergeConsistency(a, b *results.Consistency) *results.Consistency {
	if a == nil || b == nil {
		return cmp.Or(a, b)
	}
	m := *a
	if b.Violations > a.Violations {
		m.Tables = b.Tables
	}
	m.Violations += b.Violations
	m.Lost += b.Lost
	m.Extra += b.Extra
	m.Mismatched += b.Mismatched
	m.EventsCommitted += b.EventsCommitted
	m.EventsLost += b.EventsLost
	m.DuplicatesApplied += b.DuplicatesApplied
	m.EventsProduced += b.EventsProduced
	m.EventsDelivered += b.EventsDelivered
	m.EventsApplied += b.EventsApplied
	m.DuplicatesDelivered += b.DuplicatesDelivered
	m.DeadLettered += b.DeadLettered
	return &m
}

// mergeFaults merges the same scenario fault of two rounds (same position):
// injections add up, recovery is the longest.
func mergeFaults(a, b []results.Fault) []results.Fault {
	if len(a) != len(b) {
		return append(append([]results.Fault(nil), a...), b...)
	}
	out := make([]results.Fault, len(a))
	for i := range a {
		f := a[i]
		f.Injected += b[i].Injected
		f.Injections = append(append([]results.Injection(nil), a[i].Injections...), b[i].Injections...)
		f.RecoverySeconds = max(f.RecoverySeconds, b[i].RecoverySeconds)
		f.Errors = append(append([]string(nil), a[i].Errors...), b[i].Errors...)
		if o := b[i].DuringOutage; o != nil {
			f.DuringOutage = mergeOutage(f.DuringOutage, o)
		}
		if b[i].CatchUp != nil {
			f.CatchUp = b[i].CatchUp // the later round's
		}
		if b[i].Rebuild != nil {
			f.Rebuild = b[i].Rebuild
		}
		out[i] = f
	}
	return out
}

func mergeOutage(a, b *results.OutageOps) *results.OutageOps {
	if a == nil {
		return b
	}
	m := *a
	m.CommandsFailed += b.CommandsFailed
	m.CommandsRejected += b.CommandsRejected
	m.CommandsApplied += b.CommandsApplied
	m.ReadsFailed += b.ReadsFailed
	m.ReadsOK += b.ReadsOK
	m.ErrorKinds = map[string]int64{}
	for _, k := range []map[string]int64{a.ErrorKinds, b.ErrorKinds} {
		for kind, n := range k {
			m.ErrorKinds[kind] += n
		}
	}
	return &m
}
