package pack

import (
	"context"
	"fmt"
	"slices"

	"github.com/cqrsbench/cqrsbench/reference"
	"github.com/cqrsbench/cqrsbench/reference/workload"
)

// Open implements workload.Workload: sys must implement Executor (the
// derived architectures do); the session draws each operation's parameters
// from the pack's parameter sources, sampled from the data in schema.
func (p *Pack) Open(ctx context.Context, sys reference.System, db workload.DB, schema string, _ workload.Dataset, seed uint64) (workload.Session, error) {
	exec, ok := sys.(Executor)
	if !ok {
		return nil, fmt.Errorf("architecture %s does not run workload packs (pack.Executor)", sys.Name())
	}
	params, err := p.OpenParams(ctx, db, schema, seed)
	if err != nil {
		return nil, err
	}
	s := &session{exec: exec, params: params, ops: map[string]operation{}}
	for _, c := range p.Commands {
		s.ops[c.Name] = operation{command: c, params: c.Params()}
	}
	for _, sc := range p.Screens {
		// An architecture runs either query; both draw the same values.
		s.ops[sc.Name] = operation{screen: sc, params: paramsOf(sc.CRUD, sc.Flat)}
	}
	return s, nil
}

// paramsOf returns the parameters the statements use, each once, in order
// of first use.
func paramsOf(sts ...Statement) []string {
	var names []string
	for _, st := range sts {
		for _, n := range st.Params {
			if !slices.Contains(names, n) {
				names = append(names, n)
			}
		}
	}
	return names
}

// session drives one architecture through a pack's operations.
type session struct {
	exec   Executor
	params *Params
	ops    map[string]operation
}

// operation is a command or a screen, with the parameters it draws.
type operation struct {
	command *Command
	screen  *Screen
	params  []string
}

// Do implements workload.Session. Commands and screens report no effect:
// a pack's writes and reads are not yet tracked for staleness.
func (s *session) Do(ctx context.Context, name string) (workload.Effect, error) {
	op, ok := s.ops[name]
	if !ok {
		return workload.Effect{}, fmt.Errorf("the pack has no operation %q", name)
	}
	vals, err := s.params.Draw(op.params)
	if err != nil {
		return workload.Effect{}, fmt.Errorf("%s: draw parameters: %w", name, err)
	}
	args := make(map[string]any, len(vals))
	for i, n := range op.params {
		args[n] = vals[i]
	}
	if op.command != nil {
		out, err := s.exec.Run(ctx, op.command, args)
		if err != nil {
			return workload.Effect{}, err // rolled back: nothing to learn
		}
		for _, l := range out.Learned {
			s.params.Learn(l.Param, l.Value)
		}
		return workload.Effect{}, nil
	}
	_, err = s.exec.Show(ctx, op.screen, args)
	return workload.Effect{}, err
}
