package domain

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

// SchemaVersion is the version of the write-model schema that
// CreateWriteModel creates, recorded in the schema_version table and in the
// schema's ownership comment.
const SchemaVersion = 1

// OwnerMarker starts the comment of every schema cqrsbench creates. Tools
// that reset or drop schemas use it (through IsOwnedComment) to refuse
// touching tables cqrsbench did not create.
const OwnerMarker = "cqrsbench"

// ownerComment is the comment CreateWriteModel puts on its schema; its
// version matches SchemaVersion (checked by a test).
const ownerComment = OwnerMarker + " write-model v1"

// Files of the embedded schema, relative to sqlFS.
const (
	createFile = "sql/001_write_model.sql"
	finishFile = "sql/001_write_model_finish.sql"
)

// maxIdentLen is PostgreSQL's identifier length limit (NAMEDATALEN-1).
const maxIdentLen = 63

//go:embed sql/*.sql
var sqlFS embed.FS

// Execer executes SQL. *pgxpool.Pool, *pgx.Conn and pgx.Tx satisfy it.
type Execer interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
}

var (
	_ Execer = (*pgxpool.Pool)(nil)
	_ Execer = (*pgx.Conn)(nil)
	_ Execer = pgx.Tx(nil)
)

// IsOwnedComment reports whether comment, the comment of a schema, marks it
// as created by cqrsbench: it is OwnerMarker alone or followed by a space.
func IsOwnedComment(comment string) bool {
	rest, ok := strings.CutPrefix(comment, OwnerMarker)
	return ok && (rest == "" || rest[0] == ' ')
}

// ValidateSchemaName reports whether name can hold a cqrsbench schema: a
// lower-case SQL identifier (a letter or underscore, then letters, digits or
// underscores, at most 63 bytes) that does not start with "pg_".
func ValidateSchemaName(name string) error {
	switch {
	case name == "":
		return errors.New("schema name is empty")
	case len(name) > maxIdentLen:
		return fmt.Errorf("schema name %q is %d bytes long; PostgreSQL allows at most %d", name, len(name), maxIdentLen)
	case strings.HasPrefix(name, "pg_"):
		return fmt.Errorf("schema name %q starts with pg_, which PostgreSQL reserves", name)
	}
	for i, r := range name {
		ok := r == '_' || (r >= 'a' && r <= 'z') || (i > 0 && r >= '0' && r <= '9')
		if !ok {
			return fmt.Errorf("schema name %q: use lower-case letters, digits and underscores, starting with a letter or underscore", name)
		}
	}
	return nil
}

// CreateWriteModel creates schema and, inside it, the write-model tables of
// schema version SchemaVersion: a schema_version table, status_labels
// (seeded with every Status and its label) and the empty tables, with their
// NOT NULL and CHECK constraints but without keys, secondary indexes or
// foreign keys, so that a bulk load into them is fast. The schema's comment
// marks it as owned by cqrsbench (see IsOwnedComment).
//
// FinishWriteModel must run afterwards, loaded or not, to make the model
// complete. CreateWriteModel fails if the schema already exists
// (DropWriteModel removes one cqrsbench created). It runs as one
// transaction, or inside the caller's when db is a pgx.Tx.
func CreateWriteModel(ctx context.Context, db Execer, schema string) error {
	if err := ValidateSchemaName(schema); err != nil {
		return fmt.Errorf("create write model: %w", err)
	}
	script, err := render(createFile, schema)
	if err != nil {
		return err
	}
	id := pgx.Identifier{schema}.Sanitize()
	// One simple-protocol message: PostgreSQL runs it as one implicit
	// transaction, so a failure leaves nothing behind.
	sql := "CREATE SCHEMA " + id + ";\n" +
		"COMMENT ON SCHEMA " + id + " IS " + quoteLiteral(ownerComment) + ";\n" + script
	if _, err := db.Exec(ctx, sql); err != nil {
		if pgErr, ok := errors.AsType[*pgconn.PgError](err); ok && pgErr.Code == "42P06" {
			return fmt.Errorf("create write model: schema %q already exists; drop it (cqrsbench drops only schemas it created) or choose another name: %w", schema, err)
		}
		return fmt.Errorf("create write model in schema %q: %w", schema, err)
	}
	return nil
}

// DropWriteModel drops schema and everything in it if cqrsbench created it
// (its comment satisfies IsOwnedComment) and does nothing if it does not
// exist. It refuses, with an error, to drop a schema cqrsbench did not
// create. The check and the drop run in one statement on the server.
func DropWriteModel(ctx context.Context, db Execer, schema string) error {
	if err := ValidateSchemaName(schema); err != nil {
		return fmt.Errorf("drop write model: %w", err)
	}
	// The comment check mirrors IsOwnedComment.
	sql := fmt.Sprintf(`DO $cqrsbench$
DECLARE c text;
BEGIN
	IF NOT EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = %[1]s) THEN
		RETURN;
	END IF;
	c := coalesce(obj_description(%[1]s::regnamespace, 'pg_namespace'), '');
	IF c <> %[2]s AND c NOT LIKE %[3]s THEN
		RAISE EXCEPTION 'schema %% was not created by cqrsbench (its comment is "%%"); refusing to drop it', %[1]s, c
			USING ERRCODE = '42501';
	END IF;
	EXECUTE format('DROP SCHEMA %%I CASCADE', %[1]s);
END
$cqrsbench$`, quoteLiteral(schema), quoteLiteral(OwnerMarker), quoteLiteral(OwnerMarker+" %"))
	if _, err := db.Exec(ctx, sql); err != nil {
		return fmt.Errorf("drop write model in schema %q: %w", schema, err)
	}
	return nil
}

// FinishStage is one step of completing a loaded write model: a named group
// of SQL statements.
type FinishStage struct {
	// Name is the stage's name: "indexes", "keys", "analyze",
	// "foreign keys", "validate" or "sequences".
	Name string
	// Concurrent reports that the statements do not conflict with each
	// other and may run at the same time on separate connections.
	Concurrent bool
	// Statements are complete SQL statements for the schema, without a
	// trailing semicolon.
	Statements []string
}

// FinishStages returns the stages that complete the write model in schema
// after its tables are loaded, in the order they must run: build every
// index, attach primary keys and unique constraints, ANALYZE, add foreign
// keys as NOT VALID, validate them, and move identity sequences past the
// loaded ids. Loaders that want parallelism run each concurrent stage's
// statements on several connections; FinishWriteModel runs them one by one.
func FinishStages(schema string) ([]FinishStage, error) {
	if err := ValidateSchemaName(schema); err != nil {
		return nil, fmt.Errorf("finish write model: %w", err)
	}
	script, err := render(finishFile, schema)
	if err != nil {
		return nil, err
	}
	stages, err := parseStages(script)
	if err != nil {
		return nil, fmt.Errorf("parse embedded %s: %w", finishFile, err)
	}
	return stages, nil
}

// FinishWriteModel completes the write model in schema after its tables
// were loaded: it runs every FinishStages statement in order on db, so
// within the caller's transaction when db is a pgx.Tx. It must run exactly
// once after CreateWriteModel, also when nothing was loaded.
func FinishWriteModel(ctx context.Context, db Execer, schema string) error {
	stages, err := FinishStages(schema)
	if err != nil {
		return err
	}
	for _, st := range stages {
		for _, stmt := range st.Statements {
			if _, err := db.Exec(ctx, stmt); err != nil {
				return fmt.Errorf("finish write model in schema %q, stage %s: %s: %w", schema, st.Name, firstLine(stmt), err)
			}
		}
	}
	return nil
}

// render returns the embedded file name with the schema substituted.
func render(name, schema string) (string, error) {
	b, err := sqlFS.ReadFile(name)
	if err != nil {
		return "", fmt.Errorf("read embedded %s: %w", name, err)
	}
	s := strings.ReplaceAll(string(b), `:"schema"`, pgx.Identifier{schema}.Sanitize())
	return strings.ReplaceAll(s, `:'schema'`, quoteLiteral(schema)), nil
}

// parseStages splits a finish script into stages at "-- stage: NAME" lines
// (with an optional " (concurrent)") and into statements at lines ending in
// ";". Other comment lines and blank lines are dropped.
func parseStages(script string) ([]FinishStage, error) {
	var (
		stages []FinishStage
		stmt   strings.Builder
	)
	for n, line := range strings.Split(script, "\n") {
		trimmed := strings.TrimSpace(line)
		if name, ok := strings.CutPrefix(trimmed, "-- stage:"); ok {
			if stmt.Len() > 0 {
				return nil, fmt.Errorf("line %d: stage starts inside an unterminated statement", n+1)
			}
			name = strings.TrimSpace(name)
			name, concurrent := strings.CutSuffix(name, "(concurrent)")
			stages = append(stages, FinishStage{Name: strings.TrimSpace(name), Concurrent: concurrent})
			continue
		}
		if trimmed == "" || strings.HasPrefix(trimmed, "--") {
			continue
		}
		if len(stages) == 0 {
			return nil, fmt.Errorf("line %d: statement before the first stage", n+1)
		}
		if stmt.Len() > 0 {
			stmt.WriteByte('\n')
		}
		stmt.WriteString(strings.TrimRight(line, " \t"))
		if s, ok := strings.CutSuffix(stmt.String(), ";"); ok {
			st := &stages[len(stages)-1]
			st.Statements = append(st.Statements, s)
			stmt.Reset()
		}
	}
	if stmt.Len() > 0 {
		return nil, errors.New("unterminated statement at end of file")
	}
	return stages, nil
}

// quoteLiteral quotes s as an SQL string literal.
func quoteLiteral(s string) string {
	return "'" + strings.ReplaceAll(s, "'", "''") + "'"
}

// firstLine returns the first line of a statement, for error messages.
func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i] + " ..."
	}
	return s
}
