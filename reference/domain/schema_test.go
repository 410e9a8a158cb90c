package domain_test

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/cqrsbench/cqrsbench/reference/domain"
)

func TestValidateSchemaName(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		wantErr string
	}{
		{"crud", ""},
		{"cqrs_kafka", ""},
		{"_x1", ""},
		{strings.Repeat("a", 63), ""},
		{"", "empty"},
		{strings.Repeat("a", 64), "at most 63"},
		{"Crud", "lower-case"},
		{"1crud", "lower-case"},
		{"cqrs-sync", "lower-case"},
		{`x"; DROP TABLE t; --`, "lower-case"},
		{"pg_temp", "reserves"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := domain.ValidateSchemaName(tt.name)
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("ValidateSchemaName(%q) = %v", tt.name, err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("ValidateSchemaName(%q) = %v, want an error containing %q", tt.name, err, tt.wantErr)
			}
		})
	}
}

func TestIsOwnedComment(t *testing.T) {
	t.Parallel()
	tests := map[string]bool{
		"cqrsbench":                true,
		"cqrsbench write-model v1": true,
		"cqrsbench 2":              true,
		"":                         false,
		"cqrsbenchmark":            false,
		"my cqrsbench":             false,
		"Cqrsbench":                false,
	}
	for comment, want := range tests {
		if got := domain.IsOwnedComment(comment); got != want {
			t.Errorf("IsOwnedComment(%q) = %v, want %v", comment, got, want)
		}
	}
}

func TestFinishStages(t *testing.T) {
	t.Parallel()
	stages, err := domain.FinishStages("shop")
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, st := range stages {
		names = append(names, st.Name)
		if len(st.Statements) == 0 {
			t.Errorf("stage %s has no statements", st.Name)
		}
		for _, s := range st.Statements {
			if !strings.Contains(s, `"shop".`) || strings.Contains(s, ":\"schema\"") || strings.Contains(s, ":'schema'") || strings.HasSuffix(s, ";") {
				t.Errorf("stage %s: statement not rendered for schema shop: %s", st.Name, s)
			}
		}
	}
	want := []string{"indexes", "keys", "analyze", "foreign keys", "validate", "sequences"}
	if !slices.Equal(names, want) {
		t.Fatalf("stages = %q, want %q", names, want)
	}
	concurrent := map[string]bool{"indexes": true, "analyze": true, "validate": true}
	for _, st := range stages {
		if st.Concurrent != concurrent[st.Name] {
			t.Errorf("stage %s: Concurrent = %v", st.Name, st.Concurrent)
		}
	}
	if n := len(stages[0].Statements); n != 14 {
		t.Errorf("indexes stage has %d statements, want 14", n)
	}
	if _, err := domain.FinishStages("Shop"); err == nil {
		t.Error("FinishStages accepted an invalid schema name")
	}
}

func TestCreateAndFinishWriteModel(t *testing.T) {
	pool := testPool(t)
	ctx := t.Context()
	schema := freshSchema(t, pool, "domain_create")
	if err := domain.CreateWriteModel(ctx, pool, schema); err != nil {
		t.Fatal(err)
	}

	var comment string
	if err := pool.QueryRow(ctx, `SELECT obj_description($1::regnamespace, 'pg_namespace')`, schema).Scan(&comment); err != nil {
		t.Fatal(err)
	}
	if !domain.IsOwnedComment(comment) || !strings.HasSuffix(comment, " v1") || domain.SchemaVersion != 1 {
		t.Errorf("schema comment = %q, want an owned comment for version %d", comment, domain.SchemaVersion)
	}
	var version int
	if err := pool.QueryRow(ctx, `SELECT max(version) FROM `+pgx.Identifier{schema, "schema_version"}.Sanitize()).Scan(&version); err != nil {
		t.Fatal(err)
	}
	if version != domain.SchemaVersion {
		t.Errorf("schema_version = %d, want %d", version, domain.SchemaVersion)
	}
	rows, err := pool.Query(ctx, `SELECT status, label, position FROM `+pgx.Identifier{schema, "status_labels"}.Sanitize()+` ORDER BY position`)
	if err != nil {
		t.Fatal(err)
	}
	type label struct {
		Status   domain.Status
		Label    string
		Position int
	}
	got, err := pgx.CollectRows(rows, pgx.RowToStructByPos[label])
	if err != nil {
		t.Fatal(err)
	}
	var want []label
	for _, s := range domain.Statuses() {
		want = append(want, label{s, s.Label(), s.Position()})
	}
	if !slices.Equal(got, want) {
		t.Errorf("status_labels = %v, want %v", got, want)
	}
	if idx := indexes(t, pool, schema); !slices.Equal(idx, []string{"schema_version_pkey"}) {
		t.Errorf("indexes before FinishWriteModel = %v, want only schema_version_pkey", idx)
	}

	if err := domain.FinishWriteModel(ctx, pool, schema); err != nil {
		t.Fatal(err)
	}
	wantIdx := []string{
		"addresses_customer_id_idx", "addresses_pkey", "customers_email_key", "customers_pkey",
		"order_lines_pkey", "orders_created_at_idx", "orders_customer_id_created_at_idx", "orders_number_key", "orders_pkey",
		"product_images_pkey", "product_images_product_id_position_key", "products_pkey", "products_sku_key",
		"schema_version_pkey", "status_labels_pkey",
	}
	if idx := indexes(t, pool, schema); !slices.Equal(idx, wantIdx) {
		t.Errorf("indexes after FinishWriteModel = %v, want %v", idx, wantIdx)
	}
	var fks, validated int
	if err := pool.QueryRow(ctx, `SELECT count(*), count(*) FILTER (WHERE convalidated) FROM pg_constraint
		WHERE contype = 'f' AND connamespace = $1::regnamespace`, schema).Scan(&fks, &validated); err != nil {
		t.Fatal(err)
	}
	if fks != 7 || validated != 7 {
		t.Errorf("foreign keys: %d, %d validated; want 7, all validated", fks, validated)
	}

	// The model works: inserts without ids, and the constraints hold.
	tx, err := pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = tx.Rollback(ctx) }()
	if _, err := tx.Exec(ctx, "SET LOCAL search_path TO "+pgx.Identifier{schema}.Sanitize()); err != nil {
		t.Fatal(err)
	}
	var orderID int64
	err = tx.QueryRow(ctx, `
		WITH c AS (INSERT INTO customers (name, email, created_at) VALUES ('Ada', 'ada@example.com', now()) RETURNING id),
		     a AS (INSERT INTO addresses (customer_id, line1, city, postal_code, country) SELECT id, '1 Main St', 'Oslo', '0150', 'NO' FROM c RETURNING id, customer_id)
		INSERT INTO orders (number, customer_id, shipping_address_id, status, created_at, updated_at, version)
		SELECT 'ORD-1', customer_id, id, 'cart', now(), now(), 1 FROM a RETURNING id`).Scan(&orderID)
	if err != nil {
		t.Fatalf("insert an order without ids: %v", err)
	}
	if orderID != 1 {
		t.Errorf("first order id = %d, want 1", orderID)
	}
	for _, bad := range []struct{ sql, code string }{
		{`INSERT INTO order_lines VALUES (999, 1, 1, 1, 100)`, "23503"},
		{`UPDATE orders SET status = 'lost'`, "23503"},
		{`INSERT INTO products (sku, name, price_cents) VALUES ('A', 'a', -1)`, "23514"},
		{`INSERT INTO customers (name, email, created_at) VALUES ('Ada', 'ada@example.com', now())`, "23505"},
	} {
		_, err := tx.Exec(ctx, "SAVEPOINT s; "+bad.sql)
		if pgErr, ok := errors.AsType[*pgconn.PgError](err); !ok || pgErr.Code != bad.code {
			t.Errorf("%s: err = %v, want SQLSTATE %s", bad.sql, err, bad.code)
		}
		if _, err := tx.Exec(ctx, "ROLLBACK TO SAVEPOINT s"); err != nil {
			t.Fatal(err)
		}
	}
}

func TestCreateWriteModelRefusesExistingSchema(t *testing.T) {
	pool := testPool(t)
	ctx := t.Context()
	schema := freshSchema(t, pool, "domain_twice")
	if err := domain.CreateWriteModel(ctx, pool, schema); err != nil {
		t.Fatal(err)
	}
	err := domain.CreateWriteModel(ctx, pool, schema)
	if err == nil || !strings.Contains(err.Error(), "already exists") {
		t.Fatalf("second CreateWriteModel = %v, want an 'already exists' error", err)
	}
	if err := domain.CreateWriteModel(ctx, pool, "Bad-Name"); err == nil {
		t.Fatal("CreateWriteModel accepted an invalid schema name")
	}
}

func TestWriteModelInsideTransactionRollsBack(t *testing.T) {
	pool := testPool(t)
	ctx := t.Context()
	schema := freshSchema(t, pool, "domain_tx")
	tx, err := pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := domain.CreateWriteModel(ctx, tx, schema); err != nil {
		t.Fatal(err)
	}
	if err := domain.FinishWriteModel(ctx, tx, schema); err != nil {
		t.Fatal(err)
	}
	if err := tx.Rollback(ctx); err != nil {
		t.Fatal(err)
	}
	if n := schemaCount(t, pool, schema); n != 0 {
		t.Fatalf("schema %s exists after rollback", schema)
	}
}

func TestDropWriteModel(t *testing.T) {
	pool := testPool(t)
	ctx := t.Context()
	owned := freshSchema(t, pool, "domain_owned")
	if err := domain.DropWriteModel(ctx, pool, owned); err != nil {
		t.Fatalf("drop a missing schema: %v", err)
	}
	if err := domain.CreateWriteModel(ctx, pool, owned); err != nil {
		t.Fatal(err)
	}
	if err := domain.DropWriteModel(ctx, pool, owned); err != nil {
		t.Fatal(err)
	}
	if n := schemaCount(t, pool, owned); n != 0 {
		t.Fatalf("schema %s still exists", owned)
	}

	foreign := owned + "_foreign"
	if _, err := pool.Exec(ctx, "CREATE SCHEMA "+foreign+"; CREATE TABLE "+foreign+".precious (x int)"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _, _ = pool.Exec(ctx, "DROP SCHEMA "+foreign+" CASCADE") })
	err := domain.DropWriteModel(ctx, pool, foreign)
	if err == nil || !strings.Contains(err.Error(), "not created by cqrsbench") {
		t.Fatalf("DropWriteModel(foreign) = %v, want a refusal", err)
	}
	if n := schemaCount(t, pool, foreign); n != 1 {
		t.Fatalf("foreign schema was dropped")
	}
}

func schemaCount(t *testing.T, pool *pgxpool.Pool, schema string) int {
	t.Helper()
	var n int
	if err := pool.QueryRow(t.Context(), `SELECT count(*) FROM pg_namespace WHERE nspname = $1`, schema).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func indexes(t *testing.T, pool *pgxpool.Pool, schema string) []string {
	t.Helper()
	rows, err := pool.Query(t.Context(), `SELECT indexname FROM pg_indexes WHERE schemaname = $1 ORDER BY 1`, schema)
	if err != nil {
		t.Fatal(err)
	}
	names, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	return names
}
