package cqrsrabbitmq

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/cqrsbench/cqrsbench/reference/pipeline/apply"
	"github.com/cqrsbench/cqrsbench/reference/pipeline/outbox"
	"github.com/cqrsbench/cqrsbench/reference/readmodel"
)

// archiveSQL creates the event archive Rebuild replays, and the trigger
// that moves each outbox row there when a relay deletes it (one INSERT per
// relay batch, in the relay's transaction).
const archiveSQL = `
CREATE TABLE {{schema}}.outbox_archive (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    aggregate_id bigint NOT NULL,
    version      int    NOT NULL,
    payload      jsonb  -- NULL up to the checkpoint: only the key is kept
);
COMMENT ON TABLE {{schema}}.outbox_archive IS 'cqrs-rabbitmq: a snapshot of the loaded orders, then every relayed event, in order: what Rebuild replays (after the checkpoint; before it, keys only)';
CREATE FUNCTION {{schema}}.archive_outbox() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO {{schema}}.outbox_archive (aggregate_id, version, payload)
    SELECT aggregate_id, version, payload FROM relayed ORDER BY id;
    RETURN NULL;
END $$;
CREATE TRIGGER outbox_archive AFTER DELETE ON {{schema}}.outbox
    REFERENCING OLD TABLE AS relayed FOR EACH STATEMENT EXECUTE FUNCTION {{schema}}.archive_outbox()`

// checkpointSQL creates the rebuild checkpoint (see Rebuild): the read
// models as a replay of the archive up to archive id upto left them.
const checkpointSQL = `
CREATE TABLE {{schema}}.archive_checkpoint (upto bigint NOT NULL);
INSERT INTO {{schema}}.archive_checkpoint VALUES (0);
CREATE TABLE {{schema}}.checkpoint_order_read_model (LIKE {{schema}}.order_read_model);
CREATE TABLE {{schema}}.checkpoint_daily_sales (LIKE {{schema}}.daily_sales);
COMMENT ON TABLE {{schema}}.archive_checkpoint IS 'cqrs-rabbitmq: the archive id up to which the checkpoint tables hold the replay and the archive holds only keys'`

// snapshotSQL archives one order_snapshot event per order of the
// (backfilled) read model, in the events' wire format.
const snapshotSQL = `
INSERT INTO {{schema}}.outbox_archive (aggregate_id, version, payload)
SELECT order_id, version, jsonb_build_object(
    'type', 'order_snapshot', 'order_id', order_id, 'version', version, 'customer_id', customer_id,
    'number', number, 'created_at', created_at, 'status', status, 'status_label', status_label,
    'total_cents', total_cents, 'item_count', item_count, 'first_image_url', coalesce(first_image_url, ''),
    'prev_status', '', 'prev_total_cents', 0)
FROM {{schema}}.order_read_model ORDER BY order_id`

// Setup implements reference.System, on a loaded write model: it creates
// the outbox (with the relays' wake-up trigger), its archive, the inbox and
// the read models, fills the read models from the write model and archives
// their snapshot, and declares the queues afresh (deleting any left by an
// earlier run, with their messages).
// When the screens read a replica, it returns once the replica has
// replayed all of that, so that no read of the load finds it missing.
func (s *System) Setup(ctx context.Context) error {
	if err := s.setup(ctx); err != nil {
		return err
	}
	return s.Orders.WaitReplayed(ctx)
}

// setup is Setup on the primary.
func (s *System) setup(ctx context.Context) error {
	var loaded *string
	if err := s.pool.QueryRow(ctx, "SELECT to_regclass($1)::text", pgx.Identifier{s.cfg.Schema, "orders"}.Sanitize()).Scan(&loaded); err != nil {
		return fmt.Errorf("%s setup: %w", Name, err)
	}
	if loaded == nil {
		return fmt.Errorf("%s setup: schema %q has no write model; load the dataset first (cqrsbench load)", Name, s.cfg.Schema)
	}
	steps := []struct {
		what string
		do   func() error
	}{
		{"outbox", func() error { return outbox.Create(ctx, s.pool, s.cfg.Schema, outbox.Channel(s.cfg.Schema)) }},
		{"archive", func() error { return s.exec(ctx, archiveSQL) }},
		{"inbox", func() error { return apply.CreateInbox(ctx, s.pool, s.cfg.Schema) }},
		{"read models", func() error { return readmodel.Create(ctx, s.pool, s.cfg.Schema) }},
		{"backfill", func() error { return readmodel.Backfill(ctx, s.pool, s.cfg.Schema) }},
		{"snapshot", func() error { return s.exec(ctx, snapshotSQL) }},
		{"checkpoint", func() error { return s.exec(ctx, checkpointSQL) }},
		{"queues", func() error { return s.run.Declare(ctx) }},
	}
	for _, st := range steps {
		if err := st.do(); err != nil {
			return fmt.Errorf("%s setup: %s: %w", Name, st.what, err)
		}
	}
	return nil
}

func (s *System) exec(ctx context.Context, sql string) error {
	_, err := s.pool.Exec(ctx, s.expand(sql))
	return err
}
