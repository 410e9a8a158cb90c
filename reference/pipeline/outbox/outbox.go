package outbox

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/cqrsbench/cqrsbench/reference/domain"
	"github.com/cqrsbench/cqrsbench/reference/readmodel"
)

// tableSQL creates the outbox; {{schema}} is the quoted schema. The outbox
// is a queue: rows live for milliseconds, so autovacuum is told to clean it
// often, keeping the head of its primary key (which every claim scans) free
// of dead entries.
const tableSQL = `
CREATE TABLE {{schema}}.outbox (
    id           bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    aggregate_id bigint      NOT NULL,
    type         text        NOT NULL,
    version      int         NOT NULL,
    payload      jsonb       NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT clock_timestamp()
) WITH (autovacuum_vacuum_scale_factor = 0, autovacuum_vacuum_threshold = 10000,
        autovacuum_vacuum_insert_scale_factor = 0, autovacuum_vacuum_insert_threshold = 10000);
COMMENT ON TABLE {{schema}}.outbox IS 'events committed with their command, deleted by a relay once the transport confirmed them'`

// Create creates the outbox table in schema, which holds the write model,
// and, unless channel is empty, the trigger that wakes relays listening on
// channel (NotifyTriggerSQL).
func Create(ctx context.Context, db readmodel.DB, schema, channel string) error {
	if err := domain.ValidateSchemaName(schema); err != nil {
		return err
	}
	ddl := readmodel.Expand(tableSQL, schema)
	if channel != "" {
		ddl += ";\n" + NotifyTriggerSQL(schema, channel)
	}
	if _, err := db.Exec(ctx, ddl); err != nil {
		return fmt.Errorf("create the outbox in %s: %w", schema, err)
	}
	return nil
}

// MaxIDSQL returns the query of the highest outbox id committed (0 when the
// outbox is empty), which a System waits for the relays to publish
// (relay.WaitPublished).
func MaxIDSQL(schema string) string {
	return "SELECT coalesce(max(id), 0) FROM " + pgx.Identifier{schema}.Sanitize() + ".outbox"
}

// Channel returns the LISTEN/NOTIFY channel of the outbox in schema (at
// most 63 bytes, PostgreSQL's identifier limit).
func Channel(schema string) string {
	const suffix = "_outbox"
	if len(schema)+len(suffix) > 63 {
		schema = schema[:63-len(suffix)]
	}
	return schema + suffix
}
