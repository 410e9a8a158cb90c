package catalog_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/cqrsbench/cqrsbench/reference/catalog"
	"github.com/cqrsbench/cqrsbench/reference/domain"
	"github.com/cqrsbench/cqrsbench/reference/pack"
	"github.com/cqrsbench/cqrsbench/reference/shop"
)

func TestTableIsConsistent(t *testing.T) {
	t.Parallel()
	var names, schemas []string
	baselines := 0
	for _, d := range catalog.Table() {
		if slices.Contains(names, d.Name) || slices.Contains(schemas, d.Schema) {
			t.Errorf("%s: name or schema %q used twice", d.Name, d.Schema)
		}
		names, schemas = append(names, d.Name), append(schemas, d.Schema)
		if err := domain.ValidateSchemaName(d.Schema); err != nil {
			t.Errorf("%s: %v", d.Name, err)
		}
		if d.Prototype == nil || d.New == nil || d.Summary == "" || d.Consistency == "" {
			t.Errorf("%s: Prototype, New, Summary and Consistency are required", d.Name)
		}
		if _, ok := d.Prototype.(shop.Architecture); !ok {
			t.Errorf("%s does not implement the shop's commands and screens (shop.Architecture)", d.Name)
		}
		if n := len(d.ReadModels); n != 0 && (n != 2 || d.ReadModels[shop.OrderSummaries] == "" || d.ReadModels[shop.DailySales] == "") {
			t.Errorf("%s: read models %v: want %s and %s, or none", d.Name, d.ReadModels, shop.OrderSummaries, shop.DailySales)
		}
		if d.Baseline {
			baselines++
		}
		if d.Options != nil {
			if errs := d.Options().Validate(); len(errs) > 0 {
				t.Errorf("%s: its default options are invalid: %v", d.Name, errs)
			}
		}
		if got, ok := catalog.Lookup(d.Name); !ok || got.Name != d.Name {
			t.Errorf("Lookup(%q) = %v, %v", d.Name, got.Name, ok)
		}
	}
	if baselines != 1 {
		t.Errorf("%d baseline architectures, want exactly 1", baselines)
	}
	if _, ok := catalog.Lookup("nope"); ok {
		t.Error("Lookup of an unknown name succeeded")
	}
}

// TestOnlyTheTableNamesArchitectures is the extension test: outside the
// table, the harness, the scenario loader and the command line name no
// architecture in code (string literals) and import no architecture
// package, so adding one touches its own package and the table.
func TestOnlyTheTableNamesArchitectures(t *testing.T) {
	t.Parallel()
	var archPkgs []string
	for _, d := range catalog.Table() {
		archPkgs = append(archPkgs, strings.ReplaceAll(d.Name, "-", ""))
	}
	for _, dir := range []string{"../../harness", "../../scenarios", "../../cmd"} {
		inspectSources(t, dir, func(path, imp string) {
			if strings.HasPrefix(imp, "github.com/cqrsbench/cqrsbench/reference/") && slices.Contains(archPkgs, filepath.Base(imp)) {
				t.Errorf("%s imports architecture package %s: ask the table or a capability instead", path, imp)
			}
		}, func(path, lit string) {
			if _, named := catalog.Lookup(lit); named {
				t.Errorf("%s names architecture %q in code: read it from the table", path, lit)
			}
		})
	}
}

// TestOnlyTheWorkloadNamesOperations: the harness and the scenario loader
// know no operation, table or domain type of a workload: they import none
// of the shop's packages and name none of its operations in code; they ask
// the workload (reference/workload).
func TestOnlyTheWorkloadNamesOperations(t *testing.T) {
	t.Parallel()
	shopPkgs := []string{"shop", "datagen", "readmodel", "writemodel"}
	var ops []string
	for _, w := range catalog.Workloads() {
		for _, op := range w.Operations() {
			ops = append(ops, op.Name)
		}
	}
	for _, dir := range []string{"../../harness", "../../scenarios"} {
		inspectSources(t, dir, func(path, imp string) {
			if strings.HasPrefix(imp, "github.com/cqrsbench/cqrsbench/reference/") && slices.Contains(shopPkgs, filepath.Base(imp)) {
				t.Errorf("%s imports the shop's package %s: ask the workload instead", path, imp)
			}
		}, func(path, lit string) {
			if slices.Contains(ops, lit) {
				t.Errorf("%s names operation %q in code: ask the workload for its operations", path, lit)
			}
		})
	}
}

// inspectSources calls imported for every import and literal for every
// string literal of the non-test Go files under dir.
func inspectSources(t *testing.T, dir string, imported, literal func(path, s string)) {
	t.Helper()
	err := filepath.WalkDir(dir, func(path string, e fs.DirEntry, err error) error {
		if err != nil || e.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return err
		}
		f, err := parser.ParseFile(token.NewFileSet(), path, nil, 0)
		if err != nil {
			return err
		}
		for _, imp := range f.Imports {
			p, _ := strconv.Unquote(imp.Path.Value)
			imported(path, p)
		}
		ast.Inspect(f, func(n ast.Node) bool {
			if lit, ok := n.(*ast.BasicLit); ok && lit.Kind == token.STRING {
				s, _ := strconv.Unquote(lit.Value)
				literal(path, s)
			}
			return true
		})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestDerivedReadSidesCanBeProbed: every derived architecture lets the
// prober ask whether a key's row is current where its screens read
// (pack.Verifier): read models and replicas lag; one that forgets would
// look as fresh as crud on the primary.
func TestDerivedReadSidesCanBeProbed(t *testing.T) {
	t.Parallel()
	for _, d := range catalog.Table() {
		if d.Derive == nil {
			continue
		}
		if d.DerivedPrototype == nil {
			t.Errorf("%s derives packs but declares no DerivedPrototype", d.Name)
			continue
		}
		if _, verifies := d.DerivedPrototype.(pack.Verifier); !verifies {
			t.Errorf("%s on packs: not a pack.Verifier", d.Name)
		}
	}
}
