package pack

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"time"

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
	s := &session{pack: p, exec: exec, params: params, ops: map[string]operation{}}
	for _, c := range p.Commands {
		s.ops[c.Name] = operation{command: c, params: c.Params()}
	}
	for _, sc := range p.Screens {
		// An architecture runs either query; both draw the same values.
		s.ops[sc.Name] = operation{screen: sc, params: paramsOf(sc.CRUD, sc.Flat)}
	}
	for _, sq := range p.Sequences {
		s.ops[sq.Name] = operation{command: sq.Command, screen: sq.Screen, params: sq.Command.Params(),
			screenParams: paramsOf(sq.Screen.CRUD, sq.Screen.Flat)}
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

var (
	_ workload.Prober         = (*session)(nil)
	_ workload.ReadYourWriter = (*session)(nil)
)

// session drives one architecture through a pack's operations.
type session struct {
	pack   *Pack
	exec   Executor
	params *Params
	ops    map[string]operation
	ryw    ownWrites
}

// operation is a command, a screen, or a sequence of both, with the
// parameters it draws.
type operation struct {
	command *Command
	screen  *Screen
	params  []string
	// screenParams, for a sequence, are its screen's: those the command
	// drew too take the command's values.
	screenParams []string
}

// Do implements workload.Session. A command reports a write the prober
// may look for — the first key it changed, of the first read model by name
// — with no owner, so reads are not classified against it; a screen
// reports nothing (a pack's reads are not classified yet); a sequence
// reports its command's write and its own-write read, which says whether
// it missed the write.
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
		committed := time.Now()
		for _, l := range out.Learned {
			s.params.Learn(l.Param, l.Value)
		}
		s.ryw.wrote(s.pack, args, out, committed)
		eff := workload.Effect{Write: probeWrite(out, committed)}
		if op.screen == nil {
			return eff, nil
		}
		own := token{rm: s.pack.ReadModel(op.screen.ReadModel)}
		for _, k := range out.Changed[op.screen.ReadModel] {
			own.keys = append(own.keys, written{k, committed})
		}
		eff.Read, err = s.ownRead(ctx, op, args, own)
		return eff, err
	}
	_, err = s.show(ctx, op.screen, args, nil)
	return workload.Effect{}, err
}

// ownRead is a sequence's read: its screen, for the owner of the command
// that drew args (the screen's parameters the command drew keep their
// values, the others are drawn), which must show own.
func (s *session) ownRead(ctx context.Context, op operation, args map[string]any, own token) (*workload.Read, error) {
	var missing []string
	for _, n := range op.screenParams {
		if _, ok := args[n]; !ok {
			missing = append(missing, n)
		}
	}
	vals, err := s.params.Draw(missing)
	if err != nil {
		return nil, fmt.Errorf("%s: draw parameters: %w", op.screen.Name, err)
	}
	screenArgs := maps.Clone(args)
	for i, n := range missing {
		screenArgs[n] = vals[i]
	}
	started := time.Now()
	missed, err := s.show(ctx, op.screen, screenArgs, &own)
	if err != nil {
		return nil, err
	}
	return &workload.Read{Started: started, OwnWrite: true, MissedOwnWrite: missed}, nil
}

// keyRef is a read-model key a command changed: what the prober looks for.
type keyRef struct {
	readModel string
	key       []any
}

// probeWrite returns the write the prober may look for: out's first
// changed key; nil when it changed none.
func probeWrite(out Outcome, committed time.Time) *workload.Write {
	for _, rm := range slices.Sorted(maps.Keys(out.Changed)) {
		if keys := out.Changed[rm]; len(keys) > 0 {
			return &workload.Write{Probe: true, Committed: committed, Ref: keyRef{readModel: rm, key: keys[0]}}
		}
	}
	return nil
}

// Shows implements workload.Prober: the key's read-model row is what its
// projection gives now. An executor that is no Verifier shows every write
// at once.
func (s *session) Shows(ctx context.Context, w workload.Write) (bool, error) {
	ref, ok := w.Ref.(keyRef)
	if !ok {
		return false, fmt.Errorf("not a pack's write: %+v", w)
	}
	v, ok := s.exec.(Verifier)
	if !ok {
		return true, nil
	}
	rm := s.pack.ReadModel(ref.readModel)
	if rm == nil {
		return false, fmt.Errorf("the pack has no read model %s", ref.readModel)
	}
	return v.Current(ctx, rm, ref.key)
}
