package bench

import (
	"fmt"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/cqrsbench/cqrsbench/harness/infra"
	"github.com/cqrsbench/cqrsbench/reference"
	"github.com/cqrsbench/cqrsbench/reference/cqrsmatview"
	"github.com/cqrsbench/cqrsbench/reference/cqrssync"
	"github.com/cqrsbench/cqrsbench/reference/crud"
	"github.com/cqrsbench/cqrsbench/scenarios"
)

// newSystem builds the named architecture on its schema.
func newSystem(name string, pool *pgxpool.Pool, env infra.Infra, opts scenarios.Options) (reference.System, error) {
	schema := reference.SchemaOf(name)
	switch name {
	case reference.CRUD:
		return crud.New(pool, schema)
	case reference.CQRSSync:
		return cqrssync.New(pool, schema)
	case reference.CQRSMatview:
		return cqrsmatview.New(pool, schema, opts.Matview.Refresh.Std())
	}
	return nil, fmt.Errorf("architecture %q is not available in this build", name)
}
