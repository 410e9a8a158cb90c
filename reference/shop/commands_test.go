package shop_test

import (
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/cqrsbench/cqrsbench/reference/datagen"
	"github.com/cqrsbench/cqrsbench/reference/domain"
	"github.com/cqrsbench/cqrsbench/reference/shop"
)

// shop simulates order statuses so the test can tell valid commands from
// invalid ones without a database.
type simulated struct {
	status map[int64]domain.Status
	next   int64
}

func (s *simulated) apply(cmd domain.Command) (int64, error) {
	switch c := cmd.(type) {
	case domain.CreateOrder:
		s.next++
		s.status[s.next] = domain.StatusCart
		return s.next, nil
	case domain.AddLine:
		return c.OrderID, domain.CheckAddLine(c, s.statusOf(c.OrderID))
	case domain.Transition:
		if err := domain.CheckTransition(c, s.statusOf(c.Order())); err != nil {
			return 0, err
		}
		s.status[c.Order()] = c.Target()
		return c.Order(), nil
	}
	return 0, errors.New("unknown command")
}

// statusOf treats loaded orders as shipped (terminal): only commands aimed
// at orders the generator created are then valid.
func (s *simulated) statusOf(id int64) domain.Status {
	if st, ok := s.status[id]; ok {
		return st
	}
	return domain.StatusShipped
}

func run(t *testing.T, seed uint64, random float64) (cmds []domain.Command, invalid int) {
	t.Helper()
	gen, err := datagen.New(datagen.Config{Orders: 1000, Seed: 1, Today: time.Date(2026, 1, 2, 0, 0, 0, 0, time.UTC)})
	if err != nil {
		t.Fatal(err)
	}
	w := shop.NewCommands(gen, seed, shop.CommandOptions{Random: random})
	s := &simulated{status: map[int64]domain.Status{}, next: 1000}
	// Creation-heavy, as in a shop: the generator mostly has an order that
	// allows each command.
	kinds := []domain.Kind{domain.KindCreateOrder, domain.KindCreateOrder, domain.KindCreateOrder,
		domain.KindAddLine, domain.KindConfirmOrder, domain.KindConfirmOrder, domain.KindShipOrder, domain.KindCancelOrder}
	for i := range 2000 {
		cmd, err := w.Next(kinds[i%len(kinds)])
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Validate(); err != nil {
			t.Fatalf("generated an invalid command %+v: %v", cmd, err)
		}
		cmds = append(cmds, cmd)
		id, err := s.apply(cmd)
		if err != nil {
			invalid++
			continue
		}
		w.Applied(cmd, id)
	}
	return cmds, invalid
}

func TestSameSeedSameCommands(t *testing.T) {
	t.Parallel()
	a, _ := run(t, 5, 0.1)
	b, _ := run(t, 5, 0.1)
	c, _ := run(t, 6, 0.1)
	if !reflect.DeepEqual(a, b) {
		t.Error("same seed gave different commands")
	}
	if reflect.DeepEqual(a, c) {
		t.Error("different seeds gave the same commands")
	}
}

func TestRandomControlsInvalidShare(t *testing.T) {
	t.Parallel()
	_, aimed := run(t, 5, 0)
	_, random := run(t, 5, 1)
	if aimed*5 > random || random < 500 {
		t.Errorf("invalid commands: %d aimed, %d random; want aimed far below random", aimed, random)
	}
}
