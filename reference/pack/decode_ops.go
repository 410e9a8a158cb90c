package pack

import (
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// Decoding of the operations sections — parameters:, commands:, screens:
// and read_models: — and the checks that need no database: every :name a
// SQL uses is declared, every declared parameter is used, and commands
// and screens name read models that exist.

// identifier matches a parameter's name (and a tuple's column).
var identifier = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// ops decodes the operations sections of the document's fields and
// cross-checks them.
func (d *decoder) ops(fs map[string]entry, p *Pack) {
	p.Parameters = section(d, fs, "parameters", "a mapping of parameter name to its source, like {pick: tickets.id}", d.param)
	p.ReadModels = section(d, fs, "read_models", "a mapping of read model name to its key: and projection:", d.readModel)
	p.Commands = section(d, fs, "commands", "a mapping of command name to its weight:, statements: and affects:", d.command)
	p.Screens = section(d, fs, "screens", "a mapping of screen name to its weight:, crud:, read_model: and flat:", d.screen)
	p.Sequences = section(d, fs, "sequences", "a mapping of sequence name to its weight:, command: and screen:", d.sequence)
	d.crossCheck(p)
	d.checkSequences(p)
}

// section decodes each entry of the named top-level mapping, if given.
func section[T any](d *decoder, fs map[string]entry, name, want string, each func(entry) T) []T {
	e, ok := fs[name]
	if !ok {
		return nil
	}
	es, _ := d.entries(e.val, name, want)
	out := make([]T, 0, len(es))
	for _, x := range es {
		out = append(out, each(x))
	}
	return out
}

// paramKinds are the keys that name a parameter's source, and the fields
// each takes beside it.
var paramKinds = map[string][]string{
	ParamPick:  {"where", "dist", "s"},
	ParamRange: nil,
	ParamList:  nil,
	ParamWords: nil,
	ParamText:  nil,
	ParamArray: {"length"},
}

func (d *decoder) param(e entry) *Param {
	path := "parameters." + e.key.Value
	p := &Param{Name: e.key.Value, Line: e.key.Line}
	switch {
	case !identifier.MatchString(p.Name):
		d.errorf(e.key, path, "%q: name a parameter with letters, digits and _, starting with a letter or _ (SQL uses it as :name)", p.Name)
	case p.Name == BuiltinNow:
		d.errorf(e.key, path, "now is built in (the time of the draw): use :now without declaring it, and name this parameter differently")
	}
	es, ok := d.entries(e.val, path, "a mapping naming a source, like {pick: tickets.id} or {range: [1, 4]}")
	if !ok {
		return p
	}
	var kindKeys []*yaml.Node
	fs := map[string]entry{}
	for _, f := range es {
		fs[f.key.Value] = f
		if _, ok := paramKinds[f.key.Value]; ok {
			kindKeys = append(kindKeys, f.key)
		}
	}
	switch len(kindKeys) {
	case 0:
		d.errorf(e.key, path, "name a source: pick: table.column, range: [min, max], list: [a, b], words: N, text: N or array: [param, …]")
		return p
	case 1:
		p.Kind = kindKeys[0].Value
	default:
		d.errorf(kindKeys[1], path, "%s: and %s: are two sources; give one", kindKeys[0].Value, kindKeys[1].Value)
		return p
	}
	for _, f := range es {
		if f.key.Value != p.Kind && !slices.Contains(paramKinds[p.Kind], f.key.Value) {
			d.errorf(f.key, path, "unknown field %q for a %s parameter; valid fields: %s", f.key.Value, p.Kind, strings.Join(append([]string{p.Kind}, paramKinds[p.Kind]...), ", "))
		}
	}
	kv := fs[p.Kind]
	kp := path + "." + p.Kind
	switch p.Kind {
	case ParamPick:
		d.pick(kv.val, kp, p)
		if f, ok := fs["where"]; ok {
			p.Where, _ = d.str(f.val, path+".where")
			if strings.TrimSpace(p.Where) == "" {
				d.errorf(f.val, path+".where", "is empty; write a SQL condition over the table's columns, like \"status = 'open'\"")
			}
		}
		if f, ok := fs["dist"]; ok {
			switch k, _ := d.str(f.val, path+".dist"); k {
			case DistUniform:
			case DistZipf:
				p.Zipf = true
				s, ok := fs["s"]
				if !ok {
					d.errorf(f.key, path, "dist: zipf needs s: (the exponent, > 1): the first rows in key order are picked most")
					break
				}
				if p.S, ok = d.num(s.val, path+".s"); ok && p.S <= 1 {
					d.errorf(s.val, path+".s", "must be > 1 (larger is more skewed), got %v", p.S)
				}
			default:
				d.errorf(f.val, path+".dist", "a pick draws rows by dist: uniform (the default) or zipf, got %s", describe(f.val))
			}
		}
		if f, ok := fs["s"]; ok && !p.Zipf {
			d.errorf(f.key, path, "s: applies to dist: zipf only; remove it or add dist: zipf")
		}
	case ParamRange:
		d.paramRange(kv.val, kp, p)
	case ParamList:
		values, weights := d.weighted(kv.val, kp)
		for _, v := range values {
			p.Values = append(p.Values, typedValue(v))
		}
		p.Weights = weights
	case ParamWords, ParamText:
		p.MinLen, p.MaxLen = d.lengths(kv.val, kp)
	case ParamArray:
		p.Elements = d.names(kv.val, kp, "a parameter, or a list of them, like [product, quantity]")
		if f, ok := fs["length"]; ok {
			p.MinLen, p.MaxLen = d.lengths(f.val, path+".length")
		} else {
			d.errorf(e.key, path, "length: is missing; say how many elements an array has: length: 3 or length: {min: 1, max: 5}")
		}
	}
	return p
}

// arrays resolves each array parameter's elements to the parameters
// declared and sets its Columns: an element's name, or a tuple's columns.
func (d *decoder) arrays(p *Pack) {
	for _, prm := range p.Parameters {
		if prm.Kind != ParamArray {
			continue
		}
		path := "parameters." + prm.Name + ".array"
		prm.Columns = nil
		for _, name := range prm.Elements {
			el := p.param(name)
			var cols []string
			switch {
			case el == nil:
				d.errs = append(d.errs, &Error{File: d.file, Line: prm.Line, Path: path, Msg: fmt.Sprintf("%s is not a parameter; an array's elements are parameters declared under parameters:", name)})
			case el.Kind == ParamArray:
				d.errs = append(d.errs, &Error{File: d.file, Line: prm.Line, Path: path, Msg: fmt.Sprintf("%s is an array; arrays do not nest: list its elements here instead", name)})
			case el.Tuple:
				cols = el.Columns
			default:
				cols = []string{el.Name}
			}
			for _, c := range cols {
				if slices.Contains(prm.Columns, c) {
					d.errs = append(d.errs, &Error{File: d.file, Line: prm.Line, Path: path, Msg: fmt.Sprintf("two elements give a column named %s (:%s.%s would be ambiguous); rename a parameter", c, prm.Name, c)})
					continue
				}
				prm.Columns = append(prm.Columns, c)
			}
		}
	}
}

// pick reads table.column or {table: t, columns: [a, b]}.
func (d *decoder) pick(n *yaml.Node, path string, p *Param) {
	if n.Kind == yaml.ScalarNode {
		s, _ := d.str(n, path)
		table, column, ok := strings.Cut(s, ".")
		if !ok || !identifier.MatchString(table) || !identifier.MatchString(column) {
			d.errorf(n, path, "%q: write table.column (pick: tickets.id), or {table: agents, columns: [id, team_id]} for a tuple", s)
			return
		}
		p.Table, p.Columns = table, []string{column}
		return
	}
	fs, ok := d.fields(n, path, "table.column or {table: agents, columns: [id, team_id]}", "table", "columns")
	if !ok {
		return
	}
	p.Tuple = true
	if f, ok := fs["table"]; ok {
		p.Table, _ = d.str(f.val, path+".table")
	} else {
		d.errorf(n, path, "table: is missing; a tuple is {table: agents, columns: [id, team_id]}")
	}
	f, ok := fs["columns"]
	if !ok {
		d.errorf(n, path, "columns: is missing; a tuple is {table: agents, columns: [id, team_id]}")
		return
	}
	if f.val.Kind != yaml.SequenceNode || len(f.val.Content) == 0 {
		d.errorf(f.val, path+".columns", "must be a list of the table's columns, like [id, team_id]; got %s", describe(f.val))
		return
	}
	for _, c := range f.val.Content {
		name, ok := d.str(c, path+".columns")
		switch {
		case !ok:
		case !identifier.MatchString(name):
			d.errorf(c, path+".columns", "%q: name a column (letters, digits, _)", name)
		case slices.Contains(p.Columns, name):
			d.errorf(c, path+".columns", "%s is given twice", name)
		default:
			p.Columns = append(p.Columns, name)
		}
	}
}

// paramRange reads [min, max].
func (d *decoder) paramRange(n *yaml.Node, path string, p *Param) {
	if n.Kind != yaml.SequenceNode || len(n.Content) != 2 {
		d.errorf(n, path, "must be [min, max], like [1, 4] (whole numbers) or [0.5, 2.0]; got %s", describe(n))
		return
	}
	lo, hi := alias(n.Content[0]), alias(n.Content[1])
	var ok1, ok2 bool
	p.Min, ok1 = d.num(lo, path)
	p.Max, ok2 = d.num(hi, path)
	p.Float = lo.Tag == "!!float" || hi.Tag == "!!float"
	if ok1 && ok2 && p.Min > p.Max {
		d.errorf(n, path, "min (%v) is greater than max (%v)", p.Min, p.Max)
	}
}

// typedValue returns a scalar as YAML typed it: int64, float64, bool or
// string.
func typedValue(n *yaml.Node) any {
	switch n.Tag {
	case "!!int":
		var v int64
		if n.Decode(&v) == nil {
			return v
		}
	case "!!float":
		var v float64
		if n.Decode(&v) == nil {
			return v
		}
	case "!!bool":
		var v bool
		if n.Decode(&v) == nil {
			return v
		}
	}
	return n.Value
}

// statementSQL reads sql: inline SQL, a .sql file name, or {file: x.sql}.
func (d *decoder) statementSQL(n *yaml.Node, path string) SQL {
	if n.Kind != yaml.MappingNode {
		return d.sql(n, path)
	}
	fs, ok := d.fields(n, path, "SQL inline or {file: name.sql}", "file")
	if !ok {
		return SQL{}
	}
	f, ok := fs["file"]
	if !ok {
		d.errorf(n, path, "file: is missing; write {file: name.sql} or the SQL inline")
		return SQL{}
	}
	name, ok := d.str(f.val, path+".file")
	if !ok {
		return SQL{}
	}
	return d.sqlFile(f.val, path+".file", strings.TrimSpace(name))
}

// statement reads and compiles one SQL statement.
func (d *decoder) statement(n *yaml.Node, path string) Statement {
	src := d.statementSQL(n, path)
	if src.Text == "" {
		return Statement{Source: src}
	}
	st, positional := compile(src)
	if positional >= 0 {
		d.errs = append(d.errs, &Error{File: src.File, Line: src.lineOf(positional), Path: path,
			Msg: "write parameters as :name (declared under parameters:), not $n"})
	}
	return st
}

// weight reads an operation's weight: a number >= 0, 1 when absent.
func (d *decoder) weight(fs map[string]entry, path string) float64 {
	f, ok := fs["weight"]
	if !ok {
		return 1
	}
	w, ok := d.num(f.val, path+".weight")
	if ok && w < 0 {
		d.errorf(f.val, path+".weight", "must be >= 0, got %v", w)
	}
	return w
}

// opName checks the name of operation e.
func (d *decoder) opName(e entry, path string) {
	if !validName(e.key.Value) {
		d.errorf(e.key, path, "%q: name an operation with lower-case letters, digits, - and _, starting with a letter", e.key.Value)
	}
}

func (d *decoder) command(e entry) *Command {
	path := "commands." + e.key.Value
	c := &Command{Name: e.key.Value, Line: e.key.Line, affectsLines: map[string]int{}}
	d.opName(e, path)
	fs, ok := d.fields(e.val, path, "a mapping with weight:, statements: and affects:", "weight", "statements", "affects")
	if !ok {
		return c
	}
	c.Weight = d.weight(fs, path)
	if f, ok := fs["statements"]; !ok {
		d.errorf(e.key, path, "statements: is missing; give the command's SQL as a list: statements: [{sql: \"UPDATE … RETURNING id\"}]")
	} else if f.val.Kind != yaml.SequenceNode || len(f.val.Content) == 0 {
		d.errorf(f.val, path+".statements", "must be a list of statements, each {name:, sql:}; got %s", describe(f.val))
	} else {
		for i, item := range f.val.Content {
			c.Statements = append(c.Statements, d.commandStatement(alias(item), path+".statements", i))
		}
	}
	f, ok := fs["affects"]
	if !ok {
		d.errorf(e.key, path, "affects: is missing; a command must declare which read-model keys it changes, like affects: {ticket_list: [id]} (columns of its RETURNING), or affects: {} when it changes none")
		return c
	}
	c.Affects = map[string][]string{}
	rms, _ := d.entries(f.val, path+".affects", "a mapping of read model to the RETURNING columns giving its changed keys, like {ticket_list: [id]}")
	for _, rm := range rms {
		c.Affects[rm.key.Value] = d.names(rm.val, path+".affects."+rm.key.Value, "the RETURNING columns giving the read model's key, like [team_id, priority]")
		c.affectsLines[rm.key.Value] = rm.key.Line
	}
	return c
}

func (d *decoder) commandStatement(n *yaml.Node, path string, i int) CommandStatement {
	cs := CommandStatement{Name: strconv.Itoa(i + 1), line: n.Line, learnLines: map[string]int{}}
	fs, ok := d.fields(n, path, "a statement {name:, sql:, reject_if_empty:, learn:}", "name", "sql", "reject_if_empty", "learn")
	if !ok {
		return cs
	}
	if f, ok := fs["name"]; ok {
		cs.Name, _ = d.str(f.val, path+".name")
	}
	path += "." + cs.Name
	if f, ok := fs["sql"]; ok {
		cs.Statement = d.statement(f.val, path+".sql")
	} else {
		d.errorf(n, path, "sql: is missing; write the statement inline or {file: name.sql}")
	}
	if f, ok := fs["reject_if_empty"]; ok {
		cs.RejectIfEmpty, _ = d.str(f.val, path+".reject_if_empty")
		if cs.RejectIfEmpty != "" && !identifier.MatchString(cs.RejectIfEmpty) {
			d.errorf(f.val, path+".reject_if_empty", "%q: name the kind of rejection with letters, digits and _, like already_solved", cs.RejectIfEmpty)
		}
	}
	if f, ok := fs["learn"]; ok {
		es, _ := d.entries(f.val, path+".learn", "a mapping of pick parameter to a RETURNING column, like {ticket: id}")
		cs.Learn = map[string]string{}
		for _, le := range es {
			cs.Learn[le.key.Value], _ = d.str(le.val, path+".learn."+le.key.Value)
			cs.learnLines[le.key.Value] = le.key.Line
		}
	}
	return cs
}

// names reads one name or a list of names.
func (d *decoder) names(n *yaml.Node, path, want string) []string {
	n = alias(n)
	if n.Kind == yaml.ScalarNode {
		s, ok := d.str(n, path)
		if !ok {
			return nil
		}
		return []string{s}
	}
	if n.Kind != yaml.SequenceNode || len(n.Content) == 0 {
		d.errorf(n, path, "must be %s; got %s", want, describe(n))
		return nil
	}
	var out []string
	for _, item := range n.Content {
		if s, ok := d.str(item, path); ok {
			out = append(out, s)
		}
	}
	return out
}

func (d *decoder) screen(e entry) *Screen {
	path := "screens." + e.key.Value
	s := &Screen{Name: e.key.Value, Line: e.key.Line}
	d.opName(e, path)
	fs, ok := d.fields(e.val, path, "a mapping with weight:, owner:, crud:, read_model: and flat:", "weight", "owner", "crud", "read_model", "flat")
	if !ok {
		return s
	}
	s.Weight = d.weight(fs, path)
	if f, ok := fs["owner"]; ok {
		s.Owner, _ = d.str(f.val, path+".owner")
		s.ownerLine = f.key.Line
	}
	for _, req := range []string{"crud", "read_model", "flat"} {
		if _, ok := fs[req]; !ok {
			d.errorf(e.key, path, "%s: is missing; a screen gives crud: (the query on the write model), read_model: and flat: (the query on the read model)", req)
		}
	}
	if f, ok := fs["crud"]; ok {
		s.CRUD = d.statement(f.val, path+".crud")
	}
	if f, ok := fs["read_model"]; ok {
		s.ReadModel, _ = d.str(f.val, path+".read_model")
		s.readModelLine = f.key.Line
	}
	if f, ok := fs["flat"]; ok {
		s.Flat = d.statement(f.val, path+".flat")
	}
	return s
}

func (d *decoder) sequence(e entry) *Sequence {
	path := "sequences." + e.key.Value
	s := &Sequence{Name: e.key.Value, Line: e.key.Line}
	d.opName(e, path)
	fs, ok := d.fields(e.val, path, "a mapping with weight:, command: and screen:", "weight", "command", "screen")
	if !ok {
		return s
	}
	s.Weight = d.weight(fs, path)
	for _, req := range []string{"command", "screen"} {
		if _, ok := fs[req]; !ok {
			d.errorf(e.key, path, "%s: is missing; a sequence names a command and the screen its owner opens right after it", req)
		}
	}
	if f, ok := fs["command"]; ok {
		s.commandName, _ = d.str(f.val, path+".command")
		s.commandLine = f.key.Line
	}
	if f, ok := fs["screen"]; ok {
		s.screenName, _ = d.str(f.val, path+".screen")
		s.screenLine = f.key.Line
	}
	return s
}

// checkSequences resolves each sequence's command and screen and checks
// that the read is one of the command's owner: the screen has an owner,
// the command uses that parameter (it is whose command it was) and
// changes the screen's read model.
func (d *decoder) checkSequences(p *Pack) {
	ops := map[string]int{}
	commands, screens := map[string]*Command{}, map[string]*Screen{}
	for _, c := range p.Commands {
		ops[c.Name], commands[c.Name] = c.Line, c
	}
	for _, sc := range p.Screens {
		ops[sc.Name], screens[sc.Name] = sc.Line, sc
	}
	fail := func(line int, path, format string, args ...any) {
		d.errs = append(d.errs, &Error{File: d.file, Line: line, Path: path, Msg: fmt.Sprintf(format, args...)})
	}
	for _, s := range p.Sequences {
		path := "sequences." + s.Name
		if line, dup := ops[s.Name]; dup {
			fail(s.Line, path, "a command or screen is named %s too (line %d); operations need distinct names", s.Name, line)
		}
		ops[s.Name] = s.Line
		c, cok := commands[s.commandName]
		if s.commandName != "" && !cok {
			fail(s.commandLine, path+".command", "%s is not a command; name one under commands: (%s)", s.commandName, strings.Join(sortedKeys(commands), ", "))
		}
		sc, sok := screens[s.screenName]
		if s.screenName != "" && !sok {
			fail(s.screenLine, path+".screen", "%s is not a screen; name one under screens: (%s)", s.screenName, strings.Join(sortedKeys(screens), ", "))
		}
		if !cok || !sok {
			continue
		}
		s.Command, s.Screen = c, sc
		switch {
		case sc.Owner == "":
			fail(s.screenLine, path+".screen", "%s has no owner:; a sequence's screen must be someone's (owner: the parameter saying whose), opened by the owner of the command", sc.Name)
		case !slices.Contains(c.Params(), sc.Owner):
			fail(s.commandLine, path+".command", "%s does not use :%s, the owner of %s: it must be the owner's own command (use the parameter in its SQL, or pick another command)", c.Name, sc.Owner, sc.Name)
		case !hasKey(c.Affects, sc.ReadModel):
			fail(s.commandLine, path+".command", "%s does not change %s, the read model %s shows (add it under the command's affects:, or pick another command)", c.Name, sc.ReadModel, sc.Name)
		}
	}
}

func (d *decoder) readModel(e entry) *ReadModel {
	path := "read_models." + e.key.Value
	rm := &ReadModel{Name: e.key.Value, Line: e.key.Line}
	if !identifier.MatchString(rm.Name) || strings.ToLower(rm.Name) != rm.Name {
		d.errorf(e.key, path, "%q: name a read model with lower-case letters, digits and _ (it names a table)", rm.Name)
	}
	fs, ok := d.fields(e.val, path, "a mapping with key:, projection: and indexes:", "key", "projection", "indexes")
	if !ok {
		return rm
	}
	if f, ok := fs["indexes"]; ok {
		rm.Indexes = d.indexes(f.val, path+".indexes")
	}
	if f, ok := fs["key"]; ok {
		rm.Key = d.names(f.val, path+".key", "the projection's key columns, like [team_id, priority]")
		rm.keyLine = f.key.Line
		for i, k := range rm.Key {
			if slices.Contains(rm.Key[:i], k) {
				d.errorf(f.val, path+".key", "%s is given twice", k)
			}
		}
	} else {
		d.errorf(e.key, path, "key: is missing; name the projection's columns that identify a row, like key: [id]")
	}
	if f, ok := fs["projection"]; ok {
		rm.Projection = d.statementSQL(f.val, path+".projection")
		if rm.Projection.Text != "" {
			rm.projection, _ = compile(rm.Projection)
		}
	} else {
		d.errorf(e.key, path, "projection: is missing; write the SELECT over the write model that gives the read model's rows, one per key")
	}
	return rm
}

// indexes decodes a read model's indexes: a list of column lists, each a
// string like "assignee_id, priority, updated_at DESC".
func (d *decoder) indexes(n *yaml.Node, path string) []string {
	n = alias(n)
	if n.Kind != yaml.SequenceNode {
		d.errorf(n, path, "must be a list of column lists, like [\"assignee_id, priority\"], got %s", describe(n))
		return nil
	}
	var out []string
	for i, c := range n.Content {
		s, ok := d.str(c, fmt.Sprintf("%s[%d]", path, i))
		if !ok {
			continue
		}
		if strings.TrimSpace(s) == "" || strings.ContainsAny(s, ";()") {
			d.errorf(c, fmt.Sprintf("%s[%d]", path, i), "%q: give the index's columns, like \"assignee_id, updated_at DESC\"", s)
			continue
		}
		out = append(out, s)
	}
	return out
}

// crossCheck checks the references between the operations sections.
func (d *decoder) crossCheck(p *Pack) {
	d.arrays(p)
	byName := map[string]*Param{}
	for _, prm := range p.Parameters {
		for _, n := range prm.Names() {
			byName[n] = prm
		}
	}
	declared := sortedKeys(byName)
	used := map[*Param]bool{}
	uses := func(st Statement, path string) {
		for _, u := range st.uses {
			if prm, ok := byName[u.name]; ok {
				used[prm] = true
				continue
			}
			if u.name == BuiltinNow {
				continue
			}
			msg := fmt.Sprintf("unknown parameter :%s; declare it under parameters:", u.name)
			if prm := p.param(u.name); prm != nil && (prm.Tuple || prm.Kind == ParamArray) {
				what := "a tuple"
				if prm.Kind == ParamArray {
					what = "an array"
				}
				msg = fmt.Sprintf(":%s is %s; use its columns: :%s", u.name, what, strings.Join(prm.Names(), ", :"))
			} else if len(declared) > 0 {
				msg += " (declared: " + strings.Join(declared, ", ") + "; built in: now)"
			}
			d.errs = append(d.errs, &Error{File: st.Source.File, Line: st.Source.lineOf(u.off), Path: path, Msg: msg})
		}
	}
	rms := map[string]*ReadModel{}
	for _, rm := range p.ReadModels {
		rms[rm.Name] = rm
		for _, u := range rm.projection.uses {
			d.errs = append(d.errs, &Error{File: rm.Projection.File, Line: rm.Projection.lineOf(u.off), Path: "read_models." + rm.Name + ".projection",
				Msg: fmt.Sprintf(":%s: a projection takes no parameters; it gives every row of the read model", u.name)})
		}
	}
	ops := map[string]int{}
	for _, c := range p.Commands {
		ops[c.Name] = c.Line
		path := "commands." + c.Name
		for _, st := range c.Statements {
			uses(st.Statement, path+".statements."+st.Name+".sql")
			for param, col := range st.Learn {
				line := st.learnLines[param]
				if prm := byName[param]; prm == nil || prm.Kind != ParamPick || prm.Tuple {
					d.errs = append(d.errs, &Error{File: d.file, Line: line, Path: path + ".learn", Msg: fmt.Sprintf("%s is not a pick of one column; learn: adds the returned %s values to such a parameter, like {ticket: id} for ticket: {pick: tickets.id}", param, col)})
				}
			}
		}
		for _, name := range sortedKeys(c.Affects) {
			rm, ok := rms[name]
			if !ok {
				d.errs = append(d.errs, &Error{File: d.file, Line: c.affectsLines[name], Path: path + ".affects",
					Msg: fmt.Sprintf("%s is not a read model; name one under read_models: (%s)", name, strings.Join(sortedKeys(rms), ", "))})
				continue
			}
			if cols := c.Affects[name]; len(cols) != len(rm.Key) {
				d.errs = append(d.errs, &Error{File: d.file, Line: c.affectsLines[name], Path: path + ".affects." + name,
					Msg: fmt.Sprintf("gives %d columns but %s's key has %d (%s): name the RETURNING columns holding them, in that order", len(cols), name, len(rm.Key), strings.Join(rm.Key, ", "))})
			}
		}
	}
	for _, s := range p.Screens {
		path := "screens." + s.Name
		if line, dup := ops[s.Name]; dup {
			d.errorf(&yaml.Node{Line: s.Line}, path, "a command is named %s too (line %d); operations need distinct names", s.Name, line)
		}
		uses(s.CRUD, path+".crud")
		uses(s.Flat, path+".flat")
		if s.Owner != "" {
			if prm, ok := byName[s.Owner]; !ok {
				d.errs = append(d.errs, &Error{File: d.file, Line: s.ownerLine, Path: path + ".owner", Msg: fmt.Sprintf("%s is not a parameter; name the parameter whose value says whose screen it is, one of %s", s.Owner, strings.Join(declared, ", "))})
			} else {
				used[prm] = true
				for _, st := range []Statement{s.CRUD, s.Flat} {
					if st.Text != "" && !slices.Contains(st.Params, s.Owner) {
						d.errs = append(d.errs, &Error{File: d.file, Line: s.ownerLine, Path: path + ".owner", Msg: fmt.Sprintf("the screen's owner :%s must appear in both its crud: and flat: queries (it selects whose screen it is)", s.Owner)})
						break
					}
				}
			}
		}
		if s.ReadModel != "" {
			if _, ok := rms[s.ReadModel]; !ok {
				d.errs = append(d.errs, &Error{File: d.file, Line: s.readModelLine, Path: path + ".read_model",
					Msg: fmt.Sprintf("%s is not a read model; name one under read_models: (%s)", s.ReadModel, strings.Join(sortedKeys(rms), ", "))})
			}
		}
	}
	for _, prm := range p.Parameters {
		if used[prm] && prm.Kind == ParamArray {
			for _, el := range prm.Elements {
				if e := p.param(el); e != nil {
					used[e] = true
				}
			}
		}
	}
	for _, prm := range p.Parameters {
		if !used[prm] && prm.Kind != "" {
			use := prm.Name
			if names := prm.Names(); len(names) > 0 {
				use = names[0]
			}
			d.errs = append(d.errs, &Error{File: d.file, Line: prm.Line, Path: "parameters." + prm.Name,
				Msg: fmt.Sprintf("declared but no command or screen uses it; use it as :%s or remove it", use)})
		}
	}
}

// hasKey reports whether m has key k.
func hasKey[V any](m map[string]V, k string) bool {
	_, ok := m[k]
	return ok
}

// param returns the declared parameter named name, nil if none.
func (p *Pack) param(name string) *Param {
	for _, prm := range p.Parameters {
		if prm.Name == name {
			return prm
		}
	}
	return nil
}

// sortedKeys returns the keys of m in order.
func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
