package scenarios

import (
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// builtinFS holds the built-in scenarios, one NAME.yaml each.
//
//go:embed *.yaml
var builtinFS embed.FS

// builtinDir is how errors and Scenario.File name the built-ins' directory.
const builtinDir = "scenarios/"

// Parse decodes a scenario from YAML, fills its defaults and validates it.
// file names the data in error messages, and its base name without the
// extension is the scenario's Name when the YAML gives none.
//
// Every problem is reported, not just the first: the error is an ErrorList
// of *Error, each with the file and line of the bad value, e.g.
//
//	mine.yaml:3: unknown field "rat" in load (did you mean "rate"?)
//	mine.yaml:4: load.rate: must be > 0 ops/s, got -5
func Parse(file string, data []byte) (*Scenario, error) {
	s := &Scenario{File: file, src: newSource(file)}
	d := &decoder{src: s.src}
	d.parseDocument(data, s)
	s.SetDefaults()
	v := &validator{s: s}
	v.validate()
	if err := append(d.errs, v.errs...).err(); err != nil {
		return nil, err
	}
	return s, nil
}

// Load reads, decodes, defaults and validates the scenario file at path; see
// Parse.
func Load(path string) (*Scenario, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		msg := err.Error()
		var pe *fs.PathError
		if errors.As(err, &pe) {
			msg = pe.Err.Error()
		}
		return nil, ErrorList{{File: path, Msg: "cannot read the scenario: " + msg, Err: fmt.Errorf("read scenario: %w", err)}}
	}
	return Parse(path, data)
}

// Builtin returns the built-in scenario called name. An unknown name is an
// ErrorList wrapping ErrNotFound that suggests the closest built-in.
func Builtin(name string) (*Scenario, error) {
	data, err := builtinFS.ReadFile(name + ".yaml")
	if err != nil || !isBuiltinName(name) {
		return nil, notFound(name, false)
	}
	s, err := Parse(builtinDir+name+".yaml", data)
	if err != nil {
		return nil, fmt.Errorf("built-in scenario %s: %w", name, err)
	}
	s.Builtin = true
	return s, nil
}

// isBuiltinName rejects names that would reach outside the built-ins' flat
// directory or name a file by its extension.
func isBuiltinName(name string) bool {
	return name != "" && !strings.ContainsAny(name, `/\`) && !strings.HasPrefix(name, ".")
}

// BuiltinNames returns the names of the built-in scenarios: the performance
// scenarios, then the fault scenarios, each in a reading order.
func BuiltinNames() []string {
	entries, err := builtinFS.ReadDir(".")
	if err != nil {
		return nil // cannot happen: the directory is embedded
	}
	var names []string
	for _, e := range entries {
		if name, ok := strings.CutSuffix(e.Name(), ".yaml"); ok {
			names = append(names, name)
		}
	}
	order := builtinOrder()
	rank := func(n string) int {
		if i := slices.Index(order, n); i >= 0 {
			return i
		}
		return len(order)
	}
	slices.SortStableFunc(names, func(a, b string) int {
		if ra, rb := rank(a), rank(b); ra != rb {
			return ra - rb
		}
		return strings.Compare(a, b)
	})
	return names
}

// builtinOrder is the order `cqrsbench scenarios` lists the built-ins in;
// a built-in missing from it is listed last.
func builtinOrder() []string {
	return []string{
		"smoke", "mixed", "read-heavy", "write-heavy", "burst", "crossover", "capacity",
		"duplicates", "crashes", "broker-restart", "pg-restart", "poison", "visibility-gap", "catch-up", "rebuild", "read-your-writes", "relay-wal",
	}
}

// Builtins returns every built-in scenario, parsed, in BuiltinNames order.
func Builtins() ([]*Scenario, error) {
	var out []*Scenario
	for _, name := range BuiltinNames() {
		s, err := Builtin(name)
		if err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, nil
}

// Resolve returns the scenario nameOrPath names: a path to a YAML file
// (anything with a path separator or a .yaml/.yml extension), a built-in
// name, or else an existing file of that name. An unknown name is an
// ErrorList wrapping ErrNotFound that lists the built-ins.
func Resolve(nameOrPath string) (*Scenario, error) {
	if looksLikePath(nameOrPath) {
		return Load(nameOrPath)
	}
	s, err := Builtin(nameOrPath)
	if err == nil || !errors.Is(err, ErrNotFound) {
		return s, err
	}
	if st, serr := os.Stat(nameOrPath); serr == nil && !st.IsDir() {
		return Load(nameOrPath)
	}
	return nil, notFound(nameOrPath, true)
}

// looksLikePath reports whether s names a file rather than a built-in.
func looksLikePath(s string) bool {
	ext := strings.ToLower(filepath.Ext(s))
	return strings.ContainsRune(s, '/') || strings.ContainsRune(s, filepath.Separator) || ext == ".yaml" || ext == ".yml"
}

// notFound is the error for a name that is not a built-in.
func notFound(name string, orPath bool) error {
	names := BuiltinNames()
	msg := fmt.Sprintf("unknown scenario %q%s; built-ins: %s", name, didYouMean(name, names), strings.Join(names, ", "))
	if orPath {
		msg += "; or give the path of a YAML file"
	}
	return ErrorList{{Msg: msg, Err: ErrNotFound}}
}
