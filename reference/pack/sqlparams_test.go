package pack

import (
	"slices"
	"testing"
)

// TestCompileParams checks which :names the scanner replaces and which it
// leaves alone.
func TestCompileParams(t *testing.T) {
	cases := []struct {
		name, in, want string
		params         []string
		positional     int
	}{
		{"plain", "SELECT * FROM t WHERE id = :id", "SELECT * FROM t WHERE id = $1", []string{"id"}, -1},
		{"repeated", "UPDATE t SET a = :x, b = :y WHERE c = :x", "UPDATE t SET a = $1, b = $2 WHERE c = $1", []string{"x", "y"}, -1},
		{"cast", "SELECT :n::bigint, x::text, y:::z", "SELECT $1::bigint, x::text, y:::z", []string{"n"}, -1},
		{"cast after a parameter", "SELECT (:a)::int", "SELECT ($1)::int", []string{"a"}, -1},
		{"string", "SELECT ':no', 'it''s :no', :yes", "SELECT ':no', 'it''s :no', $1", []string{"yes"}, -1},
		{"escape string", `SELECT E'\' :no', :yes`, `SELECT E'\' :no', $1`, []string{"yes"}, -1},
		{"standard string ends at quote", `SELECT 'a\', :yes`, `SELECT 'a\', $1`, []string{"yes"}, -1},
		{"identifier", `SELECT ":no" FROM t WHERE "a""b:no" = :yes`, `SELECT ":no" FROM t WHERE "a""b:no" = $1`, []string{"yes"}, -1},
		{"line comment", "SELECT 1 -- :no\n, :yes", "SELECT 1 -- :no\n, $1", []string{"yes"}, -1},
		{"block comment nests", "SELECT /* :no /* :no */ :no */ :yes", "SELECT /* :no /* :no */ :no */ $1", []string{"yes"}, -1},
		{"dollar quote", "SELECT $$ :no ' $$, $f$ :no $$ $f$, :yes", "SELECT $$ :no ' $$, $f$ :no $$ $f$, $1", []string{"yes"}, -1},
		{"dollar in identifier", "SELECT a$b, :yes", "SELECT a$b, $1", []string{"yes"}, -1},
		{"tuple column", "WHERE a = :agent.id AND b = :agent.team_id AND c = t.x", "WHERE a = $1 AND b = $2 AND c = t.x", []string{"agent.id", "agent.team_id"}, -1},
		{"array slice with digits", "SELECT a[1:2]", "SELECT a[1:2]", nil, -1},
		{"colon then space", "SELECT a[1 : 2]", "SELECT a[1 : 2]", nil, -1},
		{"positional", "SELECT $1, :x", "SELECT $1, $1", []string{"x"}, 7},
		{"newlines kept", "SELECT\n  :a,\n  :b", "SELECT\n  $1,\n  $2", []string{"a", "b"}, -1},
		{"unterminated string", "SELECT ':no", "SELECT ':no", nil, -1},
		{"underscore and digits", "SELECT :_a1, :b_2", "SELECT $1, $2", []string{"_a1", "b_2"}, -1},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			st, pos := compile(SQL{Text: c.in})
			if st.Text != c.want {
				t.Errorf("text\n got %q\nwant %q", st.Text, c.want)
			}
			if !slices.Equal(st.Params, c.params) {
				t.Errorf("params %q, want %q", st.Params, c.params)
			}
			if pos != c.positional {
				t.Errorf("positional at %d, want %d", pos, c.positional)
			}
		})
	}
}

// TestCompileUses checks that every use is recorded at its offset, so
// errors name its line.
func TestCompileUses(t *testing.T) {
	src := SQL{Line: 10, Text: "SELECT :a,\n  :b,\n  :a"}
	st, _ := compile(src)
	var lines []int
	for _, u := range st.uses {
		lines = append(lines, src.lineOf(u.off))
	}
	if !slices.Equal(lines, []int{10, 11, 12}) {
		t.Errorf("uses on lines %v, want [10 11 12]", lines)
	}
}
