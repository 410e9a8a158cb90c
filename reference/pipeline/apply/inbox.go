package apply

import (
	"context"
	"fmt"

	"github.com/cqrsbench/cqrsbench/reference/domain"
	"github.com/cqrsbench/cqrsbench/reference/readmodel"
)

// inboxTableSQL creates the inbox; {{schema}} is the quoted schema.
const inboxTableSQL = `
CREATE TABLE {{schema}}.inbox (
    consumer text   NOT NULL,
    order_id bigint NOT NULL,
    version  int    NOT NULL,
    PRIMARY KEY (consumer, order_id, version)
);
COMMENT ON TABLE {{schema}}.inbox IS 'events a projector applied, keyed by (consumer, order_id, version): a redelivered event is found here and not applied again'`

// CreateInbox creates the inbox table in schema. The read models are
// created by readmodel.Create.
func CreateInbox(ctx context.Context, db readmodel.DB, schema string) error {
	if err := domain.ValidateSchemaName(schema); err != nil {
		return err
	}
	if _, err := db.Exec(ctx, readmodel.Expand(inboxTableSQL, schema)); err != nil {
		return fmt.Errorf("create the inbox in %s: %w", schema, err)
	}
	return nil
}

// TruncateInbox empties the inbox of schema (for a rebuild, with the read
// models, in one transaction).
func TruncateInbox(ctx context.Context, db readmodel.DB, schema string) error {
	if _, err := db.Exec(ctx, readmodel.Expand("TRUNCATE {{schema}}.inbox", schema)); err != nil {
		return fmt.Errorf("truncate the inbox in %s: %w", schema, err)
	}
	return nil
}
