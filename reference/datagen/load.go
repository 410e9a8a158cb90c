package datagen

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/cqrsbench/cqrsbench/reference/domain"
	"github.com/cqrsbench/cqrsbench/reference/internal/parallel"
)

// progressEvery is how many rows a table's copy generates between two
// progress reports.
const progressEvery = 100_000

// minMaintenanceWorkMemKB is the maintenance_work_mem Load raises index
// builds to when the server's setting is lower: enough to sort the largest
// index of 1M orders (order_lines' primary key) in memory.
const minMaintenanceWorkMemKB = 256 << 10

// Phases of a load, as reported in Progress.Phase and Stats.Phases, in
// order. The stages of domain.FinishStages follow PhaseCopy under their own
// names ("indexes", "keys", "analyze", "foreign keys", "validate",
// "sequences").
const (
	PhaseCreate = "create schema"
	PhaseCopy   = "copy rows"
)

// Progress reports how far a phase of Load has got: Done of Total rows
// during PhaseCopy, statements during the other phases.
type Progress struct {
	Phase       string
	Done, Total int64
}

// Stats describes a finished load.
type Stats struct {
	// Tables lists the loaded tables in load order.
	Tables []TableStats
	// Phases lists the phases in the order they ran.
	Phases []PhaseStats
	// Total is the wall time of the whole load.
	Total time.Duration
}

// TableStats describes the copy of one table.
type TableStats struct {
	Name string
	Rows int64
	// Duration is the wall time of the table's COPY transaction, commit
	// (and its fsync) included.
	Duration time.Duration
}

// PhaseStats is the wall time of one phase.
type PhaseStats struct {
	Name     string
	Duration time.Duration
}

// Rows returns the number of rows loaded into table, 0 if it is unknown.
func (s Stats) Rows(table string) int64 {
	for _, t := range s.Tables {
		if t.Name == table {
			return t.Rows
		}
	}
	return 0
}

// Phase returns the duration of the named phase, 0 if it did not run.
func (s Stats) Phase(name string) time.Duration {
	for _, p := range s.Phases {
		if p.Name == name {
			return p.Duration
		}
	}
	return 0
}

// String renders the stats as a table, one line per phase (the copy phase
// followed by one line per table) and the total:
//
//	phase                 rows  seconds
//	create schema                  0.02
//	copy rows        4,262,211     2.29
//	  customers        100,000     0.07
//	...
//	total                          6.89
func (s Stats) String() string {
	var b strings.Builder
	line := func(name, rows string, d time.Duration) {
		fmt.Fprintf(&b, "%-16s %11s %8.2f\n", name, rows, d.Seconds())
	}
	fmt.Fprintf(&b, "%-16s %11s %8s\n", "phase", "rows", "seconds")
	for _, p := range s.Phases {
		if p.Name != PhaseCopy {
			line(p.Name, "", p.Duration)
			continue
		}
		var n int64
		for _, t := range s.Tables {
			n += t.Rows
		}
		line(p.Name, groupDigits(n), p.Duration)
		for _, t := range s.Tables {
			line("  "+t.Name, groupDigits(t.Rows), t.Duration)
		}
	}
	line("total", "", s.Total)
	return b.String()
}

// groupDigits formats n with thousands separators.
func groupDigits(n int64) string {
	s := fmt.Sprint(n)
	for i := len(s) - 3; i > 0 && s[i-1] != '-'; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

// Load creates the write model in schema (replacing a schema of that name
// that cqrsbench created; refusing any other) and fills it with the dataset
// of cfg:
//
//   - domain.CreateWriteModel creates the tables without keys or indexes;
//   - each table is loaded in its own transaction that truncates it and
//     streams generated rows with COPY (binary, FREEZE), cfg.Workers tables
//     at a time on separate connections. On a server with wal_level=minimal
//     this writes no WAL (the providers run wal_level=logical, as
//     production servers with replicas do, so it does), and FREEZE spares the first reads from setting
//     hint bits and makes index-only scans possible at once;
//   - the stages of domain.FinishStages add indexes, keys, statistics,
//     foreign keys and sequence positions, running the statements of
//     concurrent stages on cfg.Workers connections.
//
// The pool must allow cfg.Workers connections. onProgress, if not nil, is
// called at the start and end of each phase and every 100,000 rows while
// copying; calls never overlap. On error the schema is left as far as the
// load got; loading again replaces it.
func Load(ctx context.Context, pool *pgxpool.Pool, schema string, cfg Config, onProgress func(Progress)) (Stats, error) {
	started := time.Now()
	gen, err := New(cfg)
	if err != nil {
		return Stats{}, err
	}
	cfg = gen.Config()
	l := &loader{pool: pool, schema: schema, gen: gen, workers: cfg.Workers, rep: reporter{fn: onProgress}}
	err = l.run(ctx)
	l.stats.Total = time.Since(started)
	if err != nil {
		return l.stats, fmt.Errorf("load %d orders into schema %q: %w", cfg.Orders, schema, err)
	}
	return l.stats, nil
}

// loader carries the state of one Load.
type loader struct {
	pool    *pgxpool.Pool
	schema  string
	gen     *Generator
	workers int
	rep     reporter
	stats   Stats
}

func (l *loader) run(ctx context.Context) error {
	if err := domain.ValidateSchemaName(l.schema); err != nil {
		return err
	}
	stages, err := domain.FinishStages(l.schema)
	if err != nil {
		return err
	}
	if err := l.phase(PhaseCreate, 1, func() error {
		if err := domain.DropWriteModel(ctx, l.pool, l.schema); err != nil {
			return err
		}
		return domain.CreateWriteModel(ctx, l.pool, l.schema)
	}); err != nil {
		return err
	}

	if err := l.copyAll(ctx); err != nil {
		return err
	}

	prefix, err := l.maintenancePrefix(ctx)
	if err != nil {
		return err
	}
	for _, st := range stages {
		workers := 1
		if st.Concurrent {
			workers = l.workers
		}
		if err := l.phase(st.Name, int64(len(st.Statements)), func() error {
			return parallel.Run(ctx, workers, len(st.Statements), func(ctx context.Context, i int) error {
				if _, err := l.pool.Exec(ctx, prefix+st.Statements[i]); err != nil {
					return fmt.Errorf("%s: %w", firstLine(st.Statements[i]), err)
				}
				l.rep.add(1)
				return nil
			})
		}); err != nil {
			return err
		}
	}
	return nil
}

// phase runs fn as the named phase: it reports progress at its start and
// end and records its duration.
func (l *loader) phase(name string, total int64, fn func() error) error {
	start := time.Now()
	l.rep.start(name, total)
	if err := fn(); err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	l.rep.finish()
	l.stats.Phases = append(l.stats.Phases, PhaseStats{Name: name, Duration: time.Since(start)})
	return nil
}

// copyAll copies every table, the largest first, l.workers at a time.
func (l *loader) copyAll(ctx context.Context) error {
	tables := l.gen.Tables()
	var total int64
	for _, t := range tables {
		total += t.Rows
	}
	order := slices.Clone(tables)
	slices.SortStableFunc(order, func(a, b Table) int {
		return cmp.Compare(b.Rows*int64(len(b.Columns)), a.Rows*int64(len(a.Columns)))
	})
	durations := make(map[string]time.Duration, len(tables))
	var mu sync.Mutex
	err := l.phase(PhaseCopy, total, func() error {
		return parallel.Run(ctx, l.workers, len(order), func(ctx context.Context, i int) error {
			start := time.Now()
			if err := l.copyTable(ctx, order[i]); err != nil {
				return err
			}
			mu.Lock()
			durations[order[i].Name] = time.Since(start)
			mu.Unlock()
			return nil
		})
	})
	if err != nil {
		return err
	}
	for _, t := range tables {
		l.stats.Tables = append(l.stats.Tables, TableStats{Name: t.Name, Rows: t.Rows, Duration: durations[t.Name]})
	}
	return nil
}

// copyTable loads one table in one transaction: TRUNCATE, then COPY FREEZE
// (which requires the table to be created or truncated in the same
// transaction; with wal_level=minimal that also skips WAL).
func (l *loader) copyTable(ctx context.Context, t Table) error {
	conn, err := l.pool.Acquire(ctx)
	if err != nil {
		return fmt.Errorf("copy %s: acquire connection: %w", t.Name, err)
	}
	defer conn.Release()
	tx, err := conn.Begin(ctx)
	if err != nil {
		return fmt.Errorf("copy %s: begin: %w", t.Name, err)
	}
	defer func() { _ = tx.Rollback(context.WithoutCancel(ctx)) }()
	table := pgx.Identifier{l.schema, t.Name}.Sanitize()
	if _, err := tx.Exec(ctx, "TRUNCATE "+table); err != nil {
		return fmt.Errorf("copy %s: truncate: %w", t.Name, err)
	}
	cols := make([]string, len(t.Columns))
	for i, c := range t.Columns {
		cols[i] = pgx.Identifier{c}.Sanitize()
	}
	sql := "COPY " + table + " (" + strings.Join(cols, ", ") + ") FROM STDIN WITH (FORMAT binary, FREEZE)"
	tag, err := conn.Conn().PgConn().CopyFrom(ctx, newCopyReader(ctx, t.Source(), l.rep.add), sql)
	if err != nil {
		return fmt.Errorf("copy %s: %w", t.Name, err)
	}
	if tag.RowsAffected() != t.Rows {
		return fmt.Errorf("copy %s: server took %d rows, generated %d", t.Name, tag.RowsAffected(), t.Rows)
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("copy %s: commit: %w", t.Name, err)
	}
	return nil
}

// maintenancePrefix returns the SET LOCAL that raises maintenance_work_mem
// for a finishing statement when the server's setting is too low to sort
// the largest index in memory, and "" otherwise.
func (l *loader) maintenancePrefix(ctx context.Context) (string, error) {
	var kb int64
	if err := l.pool.QueryRow(ctx, `SELECT setting::bigint FROM pg_settings WHERE name = 'maintenance_work_mem'`).Scan(&kb); err != nil {
		return "", fmt.Errorf("read maintenance_work_mem: %w", err)
	}
	if kb >= minMaintenanceWorkMemKB {
		return "", nil
	}
	return fmt.Sprintf("SET LOCAL maintenance_work_mem = '%dkB';\n", minMaintenanceWorkMemKB), nil
}

// reporter serializes progress reports.
type reporter struct {
	fn func(Progress)

	mu          sync.Mutex
	phase       string
	done, total int64
}

func (r *reporter) start(phase string, total int64) {
	if r.fn == nil {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.phase, r.done, r.total = phase, 0, total
	r.fn(Progress{Phase: phase, Total: total})
}

func (r *reporter) add(n int64) {
	if r.fn == nil {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.done += n
	if r.done < r.total {
		r.fn(Progress{Phase: r.phase, Done: r.done, Total: r.total})
	}
}

func (r *reporter) finish() {
	if r.fn == nil {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.fn(Progress{Phase: r.phase, Done: r.total, Total: r.total})
}

// firstLine returns the first line of a statement, for error messages.
func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i] + " ..."
	}
	return s
}
