// Package domain is the e-commerce order domain every architecture shares:
// the write-model schema and the rules of the commands.
//
// # Schema
//
// The write model (customers, addresses, products, product_images,
// status_labels, orders, order_lines) is embedded, versioned SQL under sql/
// and instantiated into a named PostgreSQL schema, because each
// architecture keeps its own copy side by side in one database:
//
//	err := domain.CreateWriteModel(ctx, pool, "crud") // tables, no keys/indexes/FKs
//	// ... bulk load with COPY (see reference/datagen) ...
//	err = domain.FinishWriteModel(ctx, pool, "crud")  // indexes, keys, ANALYZE, FKs, sequences
//
// Loading before constraining keeps a bulk load fast; FinishStages exposes
// the finishing DDL in stages so a loader can run independent statements on
// several connections. Every schema created here carries a comment starting
// with OwnerMarker (IsOwnedComment tells), and DropWriteModel drops only such
// schemas: cqrsbench never touches tables it did not create.
//
// # Commands
//
// CreateOrder, AddLine, ConfirmOrder, ShipOrder and CancelOrder are plain
// values with Validate, for what can be checked without the database, and a
// Kind naming them. CanTransition, CheckTransition and CheckAddLine encode
// the status rules (cart → confirmed → shipped, cart|confirmed → cancelled,
// never backwards); a refused command is a *TransitionError, matching
// ErrInvalidTransition, which the harness counts rather than treats as a
// failure. Each command increments the order's version, which starts at
// InitialVersion.
package domain
