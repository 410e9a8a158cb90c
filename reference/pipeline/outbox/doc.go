// Package outbox is the write side of the pipeline, shared by every
// transport: the outbox table, the writemodel Extension that inserts each
// successful command's event into it in the command's own statement (so
// the event commits exactly when the command does), and the trigger that
// wakes idle relays with LISTEN/NOTIFY.
//
// Each event row carries the order id (aggregate_id), the order's version
// after the command and the payload, the event's wire format (package
// event) built by jsonb_build_object from the command's CTEs and a few
// primary-key lookups (lines, first image, label): the order's complete
// read-model state after the command plus what it replaced (prev_status,
// prev_total_cents) and clock_timestamp() of the insert (emitted_at), so
// the projector never reads the write model.
//
//	err := outbox.Create(ctx, pool, schema, outbox.Channel(schema)) // "" for no trigger
//	store, err := writemodel.New(schema, outbox.Extension())
//
// Package relay publishes the rows and deletes them.
package outbox
