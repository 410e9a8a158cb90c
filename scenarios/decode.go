package scenarios

import (
	"bytes"
	"encoding"
	"errors"
	"fmt"
	"github.com/cqrsbench/cqrsbench/reference/catalog"
	"io"
	"math"
	"reflect"
	"slices"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// source records where each field of a scenario came from, so defaults can
// tell "absent" from "given as zero" and errors can name a line or a flag.
type source struct {
	file  string
	lines map[string]int    // field path → line of its key (or list item)
	bad   map[string]bool   // paths whose value failed to decode
	flags map[string]string // field path → the flag that overrode it
}

func newSource(file string) *source {
	return &source{file: file, lines: map[string]int{}, bad: map[string]bool{}, flags: map[string]string{}}
}

// clone returns an independent copy (nil for nil).
func (s *source) clone() *source {
	if s == nil {
		return nil
	}
	c := newSource(s.file)
	for k, v := range s.lines {
		c.lines[k] = v
	}
	for k, v := range s.bad {
		c.bad[k] = v
	}
	for k, v := range s.flags {
		c.flags[k] = v
	}
	return c
}

// present reports whether the field at path was given (in the file, or by a
// flag) with a value that decoded.
func (s *source) present(path string) bool {
	if s == nil {
		return false
	}
	if _, ok := s.flags[path]; ok {
		return true
	}
	_, ok := s.lines[path]
	return ok && !s.bad[path]
}

// failed reports whether path or one of its parents failed to decode, so a
// second, derived complaint about it would be noise.
func (s *source) failed(path string) bool {
	if s == nil {
		return false
	}
	for p := path; p != ""; p = parentPath(p) {
		if s.bad[p] {
			return true
		}
	}
	return false
}

// errorAt builds an *Error for path, locating it at the flag that set it, or
// at the line of the path or of its nearest parent that appears in the file.
func (s *source) errorAt(path, msg string) *Error {
	e := &Error{Path: path, Msg: msg}
	if s == nil {
		return e
	}
	e.File = s.file
	for p := path; p != ""; p = parentPath(p) {
		if f, ok := s.flags[p]; ok {
			e.Flag = f
			return e
		}
		if l, ok := s.lines[p]; ok {
			e.Line = l
			return e
		}
	}
	return e
}

// parentPath strips the last element of a field path: "load.phases[1].rate"
// → "load.phases[1]" → "load.phases" → "load" → "".
func parentPath(p string) string {
	if strings.HasSuffix(p, "]") {
		if i := strings.LastIndexByte(p, '['); i >= 0 {
			return p[:i]
		}
	}
	if i := strings.LastIndexByte(p, '.'); i >= 0 {
		return p[:i]
	}
	return ""
}

// join appends a field name to a path.
func join(path, name string) string {
	if path == "" {
		return name
	}
	return path + "." + name
}

// index appends a list index to a path.
func index(path string, i int) string { return path + "[" + strconv.Itoa(i) + "]" }

// decoder walks a YAML node tree into a Scenario by reflection on the yaml
// struct tags, rejecting unknown and duplicate fields and values of the wrong
// type, and collecting every error with its line.
type decoder struct {
	src  *source
	errs ErrorList
}

// errorf records an error at a node's line.
func (d *decoder) errorf(n *yaml.Node, path, format string, args ...any) {
	d.errs = append(d.errs, &Error{File: d.src.file, Line: n.Line, Path: path, Msg: fmt.Sprintf(format, args...)})
}

// fail records a bad value: the path is remembered so defaults and
// validation leave it alone.
func (d *decoder) fail(n *yaml.Node, path, format string, args ...any) {
	d.src.bad[path] = true
	d.errorf(n, path, format, args...)
}

// failErr is fail with an error as the message, kept as the cause.
func (d *decoder) failErr(n *yaml.Node, path string, err error) {
	d.src.bad[path] = true
	d.errs = append(d.errs, &Error{File: d.src.file, Line: n.Line, Path: path, Msg: err.Error(), Err: err})
}

// causeError is a message that wraps a sentinel without repeating its text.
type causeError struct {
	msg   string
	cause error
}

// Error returns the message.
func (e *causeError) Error() string { return e.msg }

// Unwrap returns the sentinel.
func (e *causeError) Unwrap() error { return e.cause }

// parseDocument decodes data into s, recording every problem in d.errs.
func (d *decoder) parseDocument(data []byte, s *Scenario) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return // an empty file: every field takes its default
		}
		d.errs = append(d.errs, yamlError(d.src.file, err))
		return
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); err == nil {
		d.errorf(&extra, "", "a second YAML document (after ---); put one scenario per file")
	} else if !errors.Is(err, io.EOF) {
		d.errs = append(d.errs, yamlError(d.src.file, err))
	}
	root := &doc
	if root.Kind == yaml.DocumentNode {
		if len(root.Content) == 0 {
			return
		}
		root = root.Content[0]
	}
	root = resolveAlias(root)
	if root.Kind == yaml.ScalarNode && root.Tag == "!!null" {
		return // a file with only comments
	}
	d.value(root, reflect.ValueOf(s).Elem(), "")
}

// yamlError converts a yaml.v3 syntax error ("yaml: line 3: …") to an *Error.
func yamlError(file string, err error) *Error {
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	line := 0
	if rest, ok := strings.CutPrefix(msg, "line "); ok {
		if i := strings.IndexByte(rest, ':'); i > 0 {
			if n, perr := strconv.Atoi(rest[:i]); perr == nil {
				line, msg = n, strings.TrimSpace(rest[i+1:])
			}
		}
	}
	return &Error{File: file, Line: line, Msg: "invalid YAML: " + msg, Err: err}
}

// resolveAlias follows *alias nodes to what they name.
func resolveAlias(n *yaml.Node) *yaml.Node {
	for n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	return n
}

// describe names what a node holds, for "got …" in messages.
func describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	}
	if n.Tag == "!!str" {
		return strconv.Quote(n.Value)
	}
	return n.Value
}

// scalarDecoder is implemented by field types that parse themselves from one
// scalar (Fraction, Threshold); the error is the message. Types of other
// packages (settings.Duration, in architectures' options) do the same as
// encoding.TextUnmarshaler.
type scalarDecoder interface {
	decodeScalar(value string) error
}

func (f *Fraction) decodeScalar(v string) error {
	x, err := parseFraction(v)
	*f = x
	return err
}

func (t *Threshold) decodeScalar(v string) error {
	x, msg := parseThreshold(strings.TrimSpace(v))
	if msg != "" {
		return &causeError{msg: fmt.Sprintf("%q: %s", strings.TrimSpace(v), msg), cause: ErrBadThreshold}
	}
	*t = x
	return nil
}

// value decodes node n into v, whose field path is path.
func (d *decoder) value(n *yaml.Node, v reflect.Value, path string) {
	n = resolveAlias(n)
	if n.Kind == yaml.ScalarNode && n.Tag == "!!null" {
		d.fail(n, path, "no value; give one, or remove the key to use the default")
		return
	}
	if sd, ok := v.Addr().Interface().(scalarDecoder); ok {
		if n.Kind != yaml.ScalarNode {
			d.fail(n, path, "must be a single value, got %s", describe(n))
			return
		}
		if err := sd.decodeScalar(n.Value); err != nil {
			d.failErr(n, path, err)
		}
		return
	}
	if tu, ok := v.Addr().Interface().(encoding.TextUnmarshaler); ok {
		if n.Kind != yaml.ScalarNode {
			d.fail(n, path, "must be a single value, got %s", describe(n))
			return
		}
		if err := tu.UnmarshalText([]byte(n.Value)); err != nil {
			d.failErr(n, path, err)
		}
		return
	}
	if m, ok := v.Addr().Interface().(*Mix); ok {
		d.mix(n, m, path)
		return
	}
	if o, ok := v.Addr().Interface().(*Options); ok {
		d.options(n, o, path)
		return
	}
	if p, ok := v.Addr().Interface().(*Policies); ok {
		d.policies(n, p, path)
		return
	}
	switch v.Kind() {
	case reflect.Struct:
		d.mapping(n, v, path)
	case reflect.Pointer:
		elem := reflect.New(v.Type().Elem())
		d.value(n, elem.Elem(), path)
		v.Set(elem)
	case reflect.Slice:
		if n.Kind != yaml.SequenceNode {
			d.fail(n, path, "must be a list, got %s", describe(n))
			return
		}
		s := reflect.MakeSlice(v.Type(), len(n.Content), len(n.Content))
		for i, item := range n.Content {
			p := index(path, i)
			d.src.lines[p] = item.Line
			d.value(item, s.Index(i), p)
		}
		v.Set(s)
	case reflect.String:
		if n.Kind != yaml.ScalarNode {
			d.fail(n, path, "must be a single value, got %s", describe(n))
			return
		}
		v.SetString(n.Value)
	case reflect.Bool:
		b, err := strconv.ParseBool(n.Value)
		if n.Kind != yaml.ScalarNode || n.Tag != "!!bool" || err != nil {
			d.fail(n, path, "must be true or false, got %s", describe(n))
			return
		}
		v.SetBool(b)
	case reflect.Int, reflect.Int64:
		i, ok := parseInt(n)
		if !ok {
			d.fail(n, path, "must be a whole number, got %s", describe(n))
			return
		}
		v.SetInt(i)
	case reflect.Uint64:
		i, ok := parseInt(n)
		if !ok || i < 0 {
			d.fail(n, path, "must be a whole number >= 0, got %s", describe(n))
			return
		}
		v.SetUint(uint64(i))
	case reflect.Float64:
		f, ok := parseFloat(n)
		if !ok {
			d.fail(n, path, "must be a number, got %s", describe(n))
			return
		}
		v.SetFloat(f)
	default:
		panic("scenarios: no decoder for " + v.Type().String())
	}
}

// parseInt parses a YAML integer: 200000, 200_000 or 2e5.
func parseInt(n *yaml.Node) (int64, bool) {
	if n.Kind != yaml.ScalarNode || n.Tag == "!!str" {
		return 0, false
	}
	s := strings.ReplaceAll(n.Value, "_", "")
	if i, err := strconv.ParseInt(s, 10, 64); err == nil {
		return i, true
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || f != math.Trunc(f) || math.Abs(f) > 1<<53 {
		return 0, false
	}
	return int64(f), true
}

// parseFloat parses a finite YAML number.
func parseFloat(n *yaml.Node) (float64, bool) {
	if n.Kind != yaml.ScalarNode || n.Tag == "!!str" {
		return 0, false
	}
	f, err := strconv.ParseFloat(strings.ReplaceAll(n.Value, "_", ""), 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
		return 0, false
	}
	return f, true
}

// field is one decodable field of a struct.
type field struct {
	name  string
	index []int // reflect.Value.FieldByIndex
}

// fields returns the yaml-tagged fields of a struct type; the fields of an
// embedded struct tagged `yaml:",inline"` read as the outer struct's.
func fields(t reflect.Type) []field {
	var out []field
	for i := range t.NumField() {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		name, opts, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		if f.Anonymous && name == "" && opts == "inline" && f.Type.Kind() == reflect.Struct {
			for _, in := range fields(f.Type) {
				out = append(out, field{name: in.name, index: append([]int{i}, in.index...)})
			}
			continue
		}
		if name == "-" || name == "" {
			continue
		}
		out = append(out, field{name: name, index: []int{i}})
	}
	return out
}

// mapping decodes a YAML mapping into a struct.
func (d *decoder) mapping(n *yaml.Node, v reflect.Value, path string) {
	if n.Kind != yaml.MappingNode {
		d.fail(n, path, "must be a mapping of fields, got %s", describe(n))
		return
	}
	fs := fields(v.Type())
	names := make([]string, len(fs))
	for i, f := range fs {
		names[i] = f.name
	}
	seen := map[string]int{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, val := resolveAlias(n.Content[i]), n.Content[i+1]
		if k.Kind != yaml.ScalarNode {
			d.errorf(k, path, "field names must be plain words, got %s", describe(k))
			continue
		}
		at := slices.IndexFunc(fs, func(f field) bool { return f.name == k.Value })
		if at < 0 {
			where := ""
			if path != "" {
				where = " in " + path
			}
			hint := didYouMean(k.Value, names)
			if hint == "" {
				hint = "; valid fields: " + strings.Join(names, ", ")
			}
			d.errs = append(d.errs, &Error{File: d.src.file, Line: k.Line,
				Msg: fmt.Sprintf("unknown field %q%s%s", k.Value, where, hint)})
			continue
		}
		p := join(path, k.Value)
		if first, dup := seen[k.Value]; dup {
			d.errorf(k, p, "given twice (first on line %d); keep one", first)
			continue
		}
		seen[k.Value] = k.Line
		d.src.lines[p] = k.Line
		d.value(val, v.FieldByIndex(fs[at].index), p)
	}
}

// mix decodes the operation → weight mapping.
func (d *decoder) mix(n *yaml.Node, m *Mix, path string) {
	if n.Kind != yaml.MappingNode {
		d.fail(n, path, "must be a mapping of operation to weight, like {list_orders: 80, create_order: 20}, got %s", describe(n))
		return
	}
	// The names are the workload's, which may be given later in the file:
	// Validate checks them.
	out := Mix{}
	d.entries(n, path, func(string) bool { return true },
		func(k *yaml.Node) string { return fmt.Sprintf("an operation must be a name, got %s", describe(k)) },
		func(k, val *yaml.Node, p string) {
			w, ok := parseFloat(resolveAlias(val))
			if !ok {
				d.fail(val, p, "weight must be a number, got %s", describe(val))
				return
			}
			out[Op(k.Value)] = w
		})
	*m = out
}

// options decodes the architecture → options mapping: each architecture's
// options start from its defaults (reference/catalog) and take the fields
// given.
func (d *decoder) options(n *yaml.Node, o *Options, path string) {
	out := Options{}
	d.byArchitecture(n, path, "options", "{cqrs-matview: {refresh: 1s}}",
		func(k, val *yaml.Node, p string) {
			desc, _ := catalog.Lookup(k.Value)
			if desc.Options == nil {
				d.fail(k, p, "%s takes no options; remove it", k.Value)
				return
			}
			opts := desc.Options()
			d.value(val, reflect.ValueOf(opts).Elem(), p)
			out[Arch(k.Value)] = opts
		})
	*o = out
}

// policies decodes the architecture → read-your-writes policy mapping
// (the policies themselves are checked by Validate).
func (d *decoder) policies(n *yaml.Node, p *Policies, path string) {
	out := Policies{}
	d.byArchitecture(n, path, "policy", "{crud-replica/wait: wait-for-token}",
		func(k, val *yaml.Node, p string) {
			var policy string
			d.value(val, reflect.ValueOf(&policy).Elem(), p)
			out[Arch(k.Value)] = policy
		})
	*p = out
}

// byArchitecture walks a mapping keyed by architecture (or variant)
// name, handing each entry to each; a node that is no mapping is
// reported with an example of the values it maps to (what, like).
func (d *decoder) byArchitecture(n *yaml.Node, path, what, like string, each func(k, val *yaml.Node, p string)) {
	if n.Kind != yaml.MappingNode {
		d.fail(n, path, "must be a mapping of architecture to its %s, like %s, got %s", what, like, describe(n))
		return
	}
	d.entries(n, path, func(k string) bool { _, ok := catalog.Lookup(k); return ok },
		func(k *yaml.Node) string { return unknownArch(k.Value) }, each)
}

// entries walks a mapping whose keys name things of a closed set (known):
// an unknown key is reported with unknown's message, a key given twice is
// reported, and each other entry is handed to each with its field path.
func (d *decoder) entries(n *yaml.Node, path string, known func(string) bool, unknown func(k *yaml.Node) string, each func(k, val *yaml.Node, p string)) {
	seen := map[string]int{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, val := resolveAlias(n.Content[i]), n.Content[i+1]
		if k.Kind != yaml.ScalarNode || !known(k.Value) {
			d.errs = append(d.errs, &Error{File: d.src.file, Line: k.Line, Path: path, Msg: unknown(k)})
			continue
		}
		p := join(path, k.Value)
		if first, dup := seen[k.Value]; dup {
			d.errorf(k, p, "given twice (first on line %d); keep one", first)
			continue
		}
		seen[k.Value] = k.Line
		d.src.lines[p] = k.Line
		each(k, val, p)
	}
}
