package bench

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/procfs"

	"github.com/cqrsbench/cqrsbench/harness/infra"
	"github.com/cqrsbench/cqrsbench/harness/results"
	"github.com/cqrsbench/cqrsbench/reference/workload"
)

// counters is a snapshot of the database's and the host's cumulative
// counters; a cost is the difference of two.
type counters struct {
	at         time.Time
	walBytes   int64 // pg_current_wal_lsn() as a byte position
	walRecords int64 // pg_stat_wal; 0 before PostgreSQL 14
	stmts      results.StatementCost
	stmtsErr   error // pg_stat_statements could not be read
	kcacheErr  error // pg_stat_kcache could not be read
	cpuReading
}

// cpuReading is the host's and its processes' cumulative CPU time.
type cpuReading struct {
	hostBusy float64
	hostErr  error // /proc/stat could not be read
	procCPU  map[procKey]procSample
	procErr  error // /proc/<pid>/stat could not be read
}

// readCPU reads the host's busy time and its processes' CPU, the services
// inf runs told apart by their process trees.
func readCPU(ctx context.Context, inf infra.Infra) cpuReading {
	var r cpuReading
	r.hostBusy, r.hostErr = hostBusySeconds()
	r.procCPU, r.procErr = processCPU(serviceRoots(ctx, inf))
	return r
}

// runCPUBetween is the CPU time the run's own processes (the services'
// process trees and cqrsbench) used between two readings, or the host's
// when its processes could not be read; false when neither could.
func runCPUBetween(from, to cpuReading) (float64, bool) {
	if from.procErr == nil && to.procErr == nil {
		var s float64
		for _, d := range processCPUDelta(from.procCPU, to.procCPU) {
			s += d
		}
		return s, true
	}
	return to.hostBusy - from.hostBusy, from.hostErr == nil && to.hostErr == nil
}

// enableStatementStats creates pg_stat_statements, and pg_stat_kcache
// (the statements' CPU time) where the server preloads it, in the database
// when it can: the local and docker providers preload pg_stat_statements,
// the local one pg_stat_kcache too when installed; on a team's server
// they need shared_preload_libraries and a role allowed to create them.
// The error says why the statements' cost will be missing; a missing
// pg_stat_kcache is said in the results (StatementCost.CPUMissing).
func enableStatementStats(ctx context.Context, pool *pgxpool.Pool) error {
	if _, err := pool.Exec(ctx, "CREATE EXTENSION IF NOT EXISTS pg_stat_statements"); err != nil {
		return fmt.Errorf("create extension pg_stat_statements: %w", err)
	}
	var preloaded bool
	if err := pool.QueryRow(ctx, "SELECT 'pg_stat_kcache' = ANY(string_to_array(replace(current_setting('shared_preload_libraries'), ' ', ''), ','))").Scan(&preloaded); err == nil && preloaded {
		_, _ = pool.Exec(ctx, "CREATE EXTENSION IF NOT EXISTS pg_stat_kcache") // else readCounters says it is missing
	}
	return nil
}

// kcacheMissing says how to get the statements' CPU time.
const kcacheMissing = "server CPU per statement: pg_stat_kcache not available (install it, e.g. Debian's postgresql-15-pg-stat-kcache, add it to shared_preload_libraries after pg_stat_statements, restart, CREATE EXTENSION pg_stat_kcache; the local provider preloads it when installed)"

// databases are the servers a run's statements execute on: the primary,
// and its streaming replica when the infrastructure has one (nil if not).
type databases struct{ primary, replica *pgxpool.Pool }

// readCounters snapshots the counters: the WAL is the primary's, the
// statements those of the primary and the replica together. Only the WAL
// position is required: the statements and the host's CPU are recorded as
// missing when they cannot be read.
func readCounters(ctx context.Context, dbs databases, inf infra.Infra) (counters, error) {
	c := counters{at: time.Now()}
	pool := dbs.primary
	if err := pool.QueryRow(ctx, "SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), '0/0')::bigint").Scan(&c.walBytes); err != nil {
		return c, fmt.Errorf("read the WAL position: %w", err)
	}
	// pg_stat_wal is PostgreSQL 14+; without it the records stay 0.
	_ = pool.QueryRow(ctx, "SELECT wal_records FROM pg_stat_wal").Scan(&c.walRecords)
	c.stmts, c.stmtsErr, c.kcacheErr = readStatements(ctx, pool)
	if dbs.replica != nil {
		s, stmtsErr, kcacheErr := readStatements(ctx, dbs.replica)
		c.stmts.Calls += s.Calls
		c.stmts.ExecMs += s.ExecMs
		c.stmts.SharedBlocks += s.SharedBlocks
		c.stmts.Rows += s.Rows
		c.stmts.CPUSeconds += s.CPUSeconds
		c.stmtsErr = errors.Join(c.stmtsErr, stmtsErr)
		c.kcacheErr = errors.Join(c.kcacheErr, kcacheErr)
	}
	c.cpuReading = readCPU(ctx, inf)
	return c, nil
}

// readStatements sums pg_stat_statements' (and pg_stat_kcache's CPU time)
// over the database's statements on db's server.
func readStatements(ctx context.Context, db *pgxpool.Pool) (s results.StatementCost, stmtsErr, kcacheErr error) {
	stmtsErr = db.QueryRow(ctx, `
		SELECT coalesce(sum(calls), 0)::bigint, coalesce(sum(total_exec_time), 0)::float8,
		       coalesce(sum(shared_blks_hit + shared_blks_read), 0)::bigint, coalesce(sum(rows), 0)::bigint
		FROM pg_stat_statements WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database())`).
		Scan(&s.Calls, &s.ExecMs, &s.SharedBlocks, &s.Rows)
	kcacheErr = db.QueryRow(ctx, `
		SELECT coalesce(sum(exec_user_time + exec_system_time), 0)::float8
		FROM pg_stat_kcache() WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database())`).
		Scan(&s.CPUSeconds)
	return s, stmtsErr, kcacheErr
}

// pendingCounters is a reading of the counters due at a set time.
type pendingCounters struct {
	done chan struct{}
	c    counters
	err  error
}

// countersAt reads the counters at t (at once if t has passed).
func countersAt(ctx context.Context, dbs databases, inf infra.Infra, t time.Time) *pendingCounters {
	p := &pendingCounters{done: make(chan struct{})}
	go func() {
		defer close(p.done)
		timer := time.NewTimer(time.Until(t))
		defer timer.Stop()
		select {
		case <-ctx.Done():
			p.err = ctx.Err()
			return
		case <-timer.C:
		}
		p.c, p.err = readCounters(ctx, dbs, inf)
	}()
	return p
}

// wait returns the reading once it is made.
func (p *pendingCounters) wait() (counters, error) {
	<-p.done
	return p.c, p.err
}

// commandsIn counts the completed commands among ops.
func commandsIn(work workload.Workload, ops []results.Op) int64 {
	var n int64
	for _, op := range ops {
		for _, w := range work.Operations() {
			if w.Name == op.Name && !w.Query {
				n += op.Count
			}
		}
	}
	return n
}

// hostBusySeconds is the CPU time the host has spent running anything
// since boot: user, nice, system, irq and softirq time of every CPU (idle,
// iowait and time stolen by a hypervisor are not work done here).
func hostBusySeconds() (float64, error) {
	fs, err := procfs.NewDefaultFS()
	if err != nil {
		return 0, fmt.Errorf("open /proc: %w", err)
	}
	st, err := fs.Stat()
	if err != nil {
		return 0, fmt.Errorf("read /proc/stat: %w", err)
	}
	t := st.CPUTotal
	return t.User + t.Nice + t.System + t.IRQ + t.SoftIRQ, nil
}

// processCPUBetween is each class's CPU between two readings, in table
// order, and the host's busy time left over as "other".
func processCPUBetween(byClass map[string]float64, host float64) []results.ProcessCPU {
	var out []results.ProcessCPU
	rest := host
	for _, class := range processClasses() {
		if d := byClass[class]; d > 0 {
			out = append(out, results.ProcessCPU{Process: class, Seconds: d})
			rest -= d
		}
	}
	return append(out, results.ProcessCPU{Process: results.ProcessOther, Seconds: max(rest, 0)})
}

// maxOtherShare is the largest share of the host's busy time other
// processes (not the run's services or cqrsbench) may take for the
// capacity to be predicted: their time is not counted as the run's, but
// they share its CPUs and caches, which moves the run's own CPU per
// operation from round to round (beside other test packages in CI, a
// null comparison called the same build's capacity 2x lower [1.5–2.6]).
const maxOtherShare = 0.25

// otherShare is the share of c's host CPU the host's other processes
// took; 0 without the split by process.
func otherShare(c *results.Cost) float64 {
	if c.HostCPUSeconds <= 0 {
		return 0
	}
	for _, p := range c.ProcessCPU {
		if p.Process == results.ProcessOther {
			return p.Seconds / c.HostCPUSeconds
		}
	}
	return 0
}

// mergeProcessCPU adds up two rounds' CPU by process, in table order.
func mergeProcessCPU(a, b []results.ProcessCPU) []results.ProcessCPU {
	if a == nil || b == nil {
		return nil // a round without it: none
	}
	sum := map[string]float64{}
	for _, p := range append(slices.Clone(a), b...) {
		sum[p.Process] += p.Seconds
	}
	var out []results.ProcessCPU
	for _, class := range append(processClasses(), results.ProcessOther) {
		if s, ok := sum[class]; ok {
			out = append(out, results.ProcessCPU{Process: class, Seconds: s})
		}
	}
	return out
}

// costBetween is the cost of the ops operations, commands of them, run
// between from and to.
func costBetween(from, to counters, ops, commands int64) *results.Cost {
	c := &results.Cost{
		Seconds:    to.at.Sub(from.at).Seconds(),
		Ops:        ops,
		Commands:   commands,
		WALBytes:   to.walBytes - from.walBytes,
		WALRecords: to.walRecords - from.walRecords,
		HostCPUs:   runtime.NumCPU(),
	}
	switch err := errors.Join(from.stmtsErr, to.stmtsErr); {
	case err != nil:
		c.StatementsMissing = "pg_stat_statements not readable (" + err.Error() + "): preload it (shared_preload_libraries = 'pg_stat_statements', a restart) and CREATE EXTENSION pg_stat_statements, as the local and docker providers do"
	default:
		c.Statements = &results.StatementCost{
			Calls:        to.stmts.Calls - from.stmts.Calls,
			ExecMs:       to.stmts.ExecMs - from.stmts.ExecMs,
			SharedBlocks: to.stmts.SharedBlocks - from.stmts.SharedBlocks,
			Rows:         to.stmts.Rows - from.stmts.Rows,
		}
		if from.kcacheErr == nil && to.kcacheErr == nil {
			c.Statements.CPUSeconds = to.stmts.CPUSeconds - from.stmts.CPUSeconds
		} else {
			c.Statements.CPUMissing = kcacheMissing
		}
	}
	if from.hostErr == nil && to.hostErr == nil {
		c.HostCPUSeconds = to.hostBusy - from.hostBusy
		if from.procErr == nil && to.procErr == nil {
			c.ProcessCPU = processCPUBetween(processCPUDelta(from.procCPU, to.procCPU), c.HostCPUSeconds)
		}
	}
	perOp(c)
	return c
}

// perOp computes c's per-operation figures from its totals.
func perOp(c *results.Cost) {
	c.WALBytesPerCommand, c.CPUPerOpUs, c.PredictedMaxRate, c.PredictionSkipped = 0, 0, 0, ""
	if c.Commands > 0 {
		c.WALBytesPerCommand = float64(c.WALBytes) / float64(c.Commands)
	}
	if c.Ops == 0 {
		return
	}
	if s := c.Statements; s != nil {
		s.ExecUsPerOp = s.ExecMs * 1000 / float64(c.Ops)
		s.CallsPerOp = float64(s.Calls) / float64(c.Ops)
		s.CPUUsPerOp = s.CPUSeconds * 1e6 / float64(c.Ops)
	}
	for i := range c.ProcessCPU {
		c.ProcessCPU[i].UsPerOp = c.ProcessCPU[i].Seconds * 1e6 / float64(c.Ops)
	}
	if c.HostCPUSeconds > 0 {
		c.CPUPerOpUs = c.HostCPUSeconds * 1e6 / float64(c.Ops)
		// The utilization law, idle work apart: busy CPUs = idle + rate ×
		// demand, so the CPUs are all busy at (CPUs − idle) / demand.
		demand := c.DemandSeconds()
		if free := float64(c.HostCPUs) - c.IdleCPUs; demand > 0 && free > 0 {
			c.PredictedMaxRate = free / demand
		}
		if other := otherShare(c); other > maxOtherShare {
			c.PredictedMaxRate = 0
			c.PredictionSkipped = fmt.Sprintf("the host's other processes took %.0f%% of its busy time (over %.0f%%): sharing its CPUs, they move the run's own cost per operation", other*100, maxOtherShare*100)
		}
	}
}

// mergeCost adds up two rounds' costs; the storage is the later round's.
func mergeCost(a, b *results.Cost) *results.Cost {
	if a == nil || b == nil {
		return cmp.Or(a, b)
	}
	m := *a
	m.Seconds += b.Seconds
	m.Ops += b.Ops
	m.Commands += b.Commands
	m.WALBytes += b.WALBytes
	m.WALRecords += b.WALRecords
	m.HostCPUSeconds += b.HostCPUSeconds
	m.TransportBytesPerEvent = cmp.Or(b.TransportBytesPerEvent, a.TransportBytesPerEvent) // the same events: either round's
	m.ProcessCPU = mergeProcessCPU(a.ProcessCPU, b.ProcessCPU)
	if idle := a.IdleSeconds + b.IdleSeconds; idle > 0 {
		m.IdleCPUs = (a.IdleCPUs*a.IdleSeconds + b.IdleCPUs*b.IdleSeconds) / idle
		m.IdleSeconds = idle
	}
	if a.Statements != nil && b.Statements != nil {
		s := *a.Statements
		s.Calls += b.Statements.Calls
		s.ExecMs += b.Statements.ExecMs
		s.SharedBlocks += b.Statements.SharedBlocks
		s.Rows += b.Statements.Rows
		s.CPUSeconds += b.Statements.CPUSeconds
		if b.Statements.CPUMissing != "" {
			s.CPUSeconds, s.CPUMissing = 0, b.Statements.CPUMissing // one round without it: none
		}
		m.Statements = &s
	} else {
		m.Statements, m.StatementsMissing = nil, a.StatementsMissing+b.StatementsMissing
	}
	m.Storage = b.Storage
	perOp(&m)
	return &m
}

// tableNames lists the tables and materialized views of schema.
func tableNames(ctx context.Context, db workload.DB, schema string) ([]string, error) {
	rows, err := db.Query(ctx, `SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
		WHERE n.nspname = $1 AND c.relkind IN ('r', 'm', 'p') ORDER BY 1`, schema)
	if err != nil {
		return nil, fmt.Errorf("list the tables of %s: %w", schema, err)
	}
	return pgx.CollectRows(rows, pgx.RowTo[string])
}

// storage sizes every table of schema: those of writeModel (the tables
// the workload loaded) are the write model, those of readModels the read
// models, the rest what the pipeline keeps (outbox, inbox, archive).
func storage(ctx context.Context, db workload.DB, schema string, writeModel []string, readModels workload.ReadModels) ([]results.TableSize, error) {
	rows, err := db.Query(ctx, `SELECT c.relname, pg_total_relation_size(c.oid) FROM pg_class c
		JOIN pg_namespace n ON n.oid = c.relnamespace
		WHERE n.nspname = $1 AND c.relkind IN ('r', 'm', 'p') ORDER BY 1`, schema)
	if err != nil {
		return nil, fmt.Errorf("size the tables of %s: %w", schema, err)
	}
	sizes, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (results.TableSize, error) {
		var t results.TableSize
		err := row.Scan(&t.Table, &t.Bytes)
		return t, err
	})
	if err != nil {
		return nil, fmt.Errorf("size the tables of %s: %w", schema, err)
	}
	for i := range sizes {
		t := &sizes[i]
		switch {
		case slices.Contains(writeModel, t.Table):
			t.Role = results.RoleWriteModel
		case isReadModel(readModels, t.Table):
			t.Role = results.RoleReadModel
		default:
			t.Role = results.RolePipeline
		}
	}
	return sizes, nil
}

// isReadModel reports whether table holds one of rm.
func isReadModel(rm workload.ReadModels, table string) bool {
	for _, t := range rm {
		if t == table {
			return true
		}
	}
	return false
}
