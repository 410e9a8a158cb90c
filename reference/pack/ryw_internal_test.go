package pack

import (
	"testing"
	"time"

	"github.com/cqrsbench/cqrsbench/reference/workload"
)

// TestOwnWritesKeepsUnseenKeysUntilShownOrOld: a pack's token is every
// key the owner's commands changed that no read has shown; a read that
// showed a key forgets it unless a command wrote it again meanwhile; keys
// past the policy's horizon are forgotten; a screen's owner is the
// command's value of the screen's owner parameter.
func TestOwnWritesKeepsUnseenKeysUntilShownOrOld(t *testing.T) {
	t.Parallel()
	sc := &Screen{Name: "group", Owner: "grp", ReadModel: "totals"}
	p := &Pack{Screens: []*Screen{sc}, ReadModels: []*ReadModel{{Name: "totals", Key: []string{"grp"}}}}
	o := &ownWrites{cfg: workload.ReadYourWrites{Policy: workload.RYWWaitForToken, Timeout: time.Second}}
	who, _ := whose(sc, map[string]any{"grp": 9})
	changed := func(keys ...int) Outcome {
		var ks [][]any
		for _, k := range keys {
			ks = append(ks, []any{k})
		}
		return Outcome{Changed: map[string][][]any{"totals": ks}}
	}
	now := time.Now()
	o.wrote(p, map[string]any{"grp": 9}, changed(9, 10), now)
	o.wrote(p, map[string]any{"grp": 7}, changed(7), now) // another owner's
	r, tok := o.route(p, sc, who, true)
	if r != afterWait || len(tok.keys) != 2 || tok.rm == nil || tok.rm.Name != "totals" {
		t.Fatalf("route: %v, %+v; want a wait for keys 9 and 10 of totals", r, tok)
	}
	o.wrote(p, map[string]any{"grp": 9}, changed(10), now.Add(time.Millisecond)) // 10 again, after the read began
	o.seen(who, tok)
	if _, tok := o.route(p, sc, who, true); len(tok.keys) != 1 || tok.keys[0].key[0] != 10 {
		t.Errorf("after a read showed 9 and 10 while 10 was written again: %+v; want 10 still pending", tok.keys)
	}
	if r, _ := o.route(p, sc, who, false); r != toReadSide {
		t.Errorf("a read of no one's screen: %v; want the read side", r)
	}

	o.wrote(p, map[string]any{"grp": 7}, changed(7), now.Add(-3*time.Second)) // past twice the timeout
	other, _ := whose(sc, map[string]any{"grp": 7})
	if r, tok := o.route(p, sc, other, true); r != toReadSide || len(o.pending[other]) != 0 {
		t.Errorf("a key older than twice the timeout: %v, %+v; want it forgotten", r, tok)
	}

	o.cfg = workload.ReadYourWrites{Policy: workload.RYWPrimaryAfterWrite, Window: time.Second}
	if r, _ := o.route(p, sc, who, true); r != toWriteModel {
		t.Errorf("primary-after-write within the window: %v; want the write model", r)
	}
	o.wrote(p, map[string]any{"grp": 9}, changed(10), now.Add(-time.Second))
	if r, _ := o.route(p, sc, who, true); r != toReadSide {
		t.Errorf("primary-after-write after the window: %v; want the read side", r)
	}
}
