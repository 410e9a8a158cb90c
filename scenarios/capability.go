package scenarios

import (
	"github.com/cqrsbench/cqrsbench/reference"
	"github.com/cqrsbench/cqrsbench/reference/catalog"
)

// Needs says what an architecture must offer for a fault of kind k to be
// injected into it: a capability of package reference, in words, and
// whether the descriptor's systems offer it.
func (k FaultKind) Needs(d catalog.Descriptor) (what string, ok bool) {
	switch k {
	case FaultPGRestart:
		return "", true
	case FaultPoison:
		return "a pipeline that takes poison messages", catalog.Offers[reference.Poisonable](d)
	case FaultVisibilityGap:
		return "an outbox pipeline whose commands run in a held transaction",
			catalog.Offers[reference.Pipeline](d) && catalog.Offers[reference.TxExecutor](d)
	case FaultCatchUp:
		return "a projector that can be paused", catalog.Offers[reference.Pausable](d)
	case FaultRebuild:
		return "read models that can be rebuilt", catalog.Offers[reference.Rebuildable](d)
	}
	return "an event pipeline", catalog.Offers[reference.Pipeline](d)
}

// AppliesTo reports whether fault f is injected into arch's run: f names
// arch, or names none and arch offers what f's kind needs.
func (f Fault) AppliesTo(arch Arch) bool {
	if f.Arch != "" {
		return f.Arch == arch
	}
	d, ok := arch.Descriptor()
	if !ok {
		return false
	}
	_, ok = f.Kind.Needs(d)
	return ok
}
