package pack_test

import (
	"testing"

	"github.com/cqrsbench/cqrsbench/reference/workload"
)

// TestHelpdeskOperationsInspect checks that the shipped helpdesk's
// operations pass Inspect and that it describes what they return.
func TestHelpdeskOperationsInspect(t *testing.T) {
	pool := shared.Pool(t)
	p := mustLoad(t, "../../workloads/helpdesk")
	if _, err := p.Inspect(t.Context(), pool, workload.Dataset{Rows: 500, Seed: 1, Today: today}); err != nil {
		t.Fatal(err)
	}
	for _, c := range p.Commands {
		for _, st := range c.Statements {
			t.Logf("%s.%s returns %v; params %v", c.Name, st.Name, st.Columns, st.Params)
		}
	}
	for _, rm := range p.ReadModels {
		t.Logf("%s: %v", rm.Name, rm.Columns)
	}
}
