package domain_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/cqrsbench/cqrsbench/reference/domain"
)

func TestCanTransition(t *testing.T) {
	t.Parallel()
	allowed := map[[2]domain.Status]bool{
		{domain.StatusCart, domain.StatusConfirmed}:      true,
		{domain.StatusConfirmed, domain.StatusShipped}:   true,
		{domain.StatusCart, domain.StatusCancelled}:      true,
		{domain.StatusConfirmed, domain.StatusCancelled}: true,
	}
	all := append(domain.Statuses(), "", "lost")
	for _, from := range all {
		for _, to := range all {
			t.Run(fmt.Sprintf("%s→%s", from, to), func(t *testing.T) {
				t.Parallel()
				if got, want := domain.CanTransition(from, to), allowed[[2]domain.Status{from, to}]; got != want {
					t.Errorf("CanTransition(%q, %q) = %v, want %v", from, to, got, want)
				}
			})
		}
	}
}

func TestStatusNeverRegresses(t *testing.T) {
	t.Parallel()
	for _, from := range domain.Statuses() {
		for _, to := range domain.Statuses() {
			if domain.CanTransition(from, to) && to.Position() <= from.Position() {
				t.Errorf("%s → %s is allowed but does not move forward", from, to)
			}
			if from.Terminal() && domain.CanTransition(from, to) {
				t.Errorf("terminal %s may move to %s", from, to)
			}
		}
	}
}

func TestStatusAttributes(t *testing.T) {
	t.Parallel()
	tests := []struct {
		s        domain.Status
		valid    bool
		label    string
		position int
		terminal bool
	}{
		{domain.StatusCart, true, "In your cart", 1, false},
		{domain.StatusConfirmed, true, "Confirmed", 2, false},
		{domain.StatusShipped, true, "Shipped", 3, true},
		{domain.StatusCancelled, true, "Cancelled", 4, true},
		{"Cart", false, "", 0, false},
		{"", false, "", 0, false},
	}
	for _, tt := range tests {
		t.Run(string(tt.s), func(t *testing.T) {
			t.Parallel()
			if got := tt.s.Valid(); got != tt.valid {
				t.Errorf("Valid() = %v, want %v", got, tt.valid)
			}
			if got := tt.s.Label(); got != tt.label {
				t.Errorf("Label() = %q, want %q", got, tt.label)
			}
			if got := tt.s.Position(); got != tt.position {
				t.Errorf("Position() = %d, want %d", got, tt.position)
			}
			if got := tt.s.Terminal(); got != tt.terminal {
				t.Errorf("Terminal() = %v, want %v", got, tt.terminal)
			}
			got, err := domain.ParseStatus(string(tt.s))
			if tt.valid && (err != nil || got != tt.s) {
				t.Errorf("ParseStatus(%q) = %q, %v", tt.s, got, err)
			}
			if !tt.valid && (err == nil || !strings.Contains(err.Error(), "cart, confirmed, shipped or cancelled")) {
				t.Errorf("ParseStatus(%q) error = %v, want one listing the valid statuses", tt.s, err)
			}
		})
	}
}

func TestCheckTransition(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		cmd     domain.Transition
		from    domain.Status
		wantErr string
	}{
		{"confirm cart", domain.ConfirmOrder{OrderID: 7}, domain.StatusCart, ""},
		{"ship confirmed", domain.ShipOrder{OrderID: 7}, domain.StatusConfirmed, ""},
		{"cancel cart", domain.CancelOrder{OrderID: 7}, domain.StatusCart, ""},
		{"cancel confirmed", domain.CancelOrder{OrderID: 7}, domain.StatusConfirmed, ""},
		{"ship cart", domain.ShipOrder{OrderID: 7}, domain.StatusCart, "order 7: ship_order cannot move status cart → shipped"},
		{"confirm twice", domain.ConfirmOrder{OrderID: 7}, domain.StatusConfirmed, "order 7: confirm_order cannot move status confirmed → confirmed"},
		{"cancel shipped", domain.CancelOrder{OrderID: 7}, domain.StatusShipped, "order 7: cancel_order cannot move status shipped → cancelled"},
		{"confirm cancelled", domain.ConfirmOrder{OrderID: 7}, domain.StatusCancelled, "order 7: confirm_order cannot move status cancelled → confirmed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := domain.CheckTransition(tt.cmd, tt.from)
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("CheckTransition = %v, want nil", err)
				}
				return
			}
			checkTransitionError(t, fmt.Errorf("wrapped: %w", err), tt.wantErr,
				domain.TransitionError{OrderID: 7, Command: tt.cmd.Kind(), From: tt.from, To: tt.cmd.Target()})
		})
	}
}

func TestCheckAddLine(t *testing.T) {
	t.Parallel()
	cmd := domain.AddLine{OrderID: 9, Line: domain.Line{ProductID: 1, Quantity: 1}}
	for _, st := range domain.Statuses() {
		t.Run(string(st), func(t *testing.T) {
			t.Parallel()
			err := domain.CheckAddLine(cmd, st)
			if st == domain.StatusCart {
				if err != nil {
					t.Fatalf("CheckAddLine(cart) = %v", err)
				}
				return
			}
			checkTransitionError(t, err, "order 9: add_line needs status cart, order is "+string(st),
				domain.TransitionError{OrderID: 9, Command: domain.KindAddLine, From: st, To: domain.StatusCart})
		})
	}
}

func checkTransitionError(t *testing.T, err error, msg string, want domain.TransitionError) {
	t.Helper()
	if err == nil {
		t.Fatalf("got nil error, want %q", msg)
	}
	if !errors.Is(err, domain.ErrInvalidTransition) {
		t.Errorf("errors.Is(%v, ErrInvalidTransition) = false", err)
	}
	if errors.Is(err, domain.ErrInvalidCommand) {
		t.Errorf("errors.Is(%v, ErrInvalidCommand) = true", err)
	}
	te, ok := errors.AsType[*domain.TransitionError](err)
	if !ok {
		t.Fatalf("errors.As(%v, *TransitionError) = false", err)
	}
	if *te != want {
		t.Errorf("TransitionError = %+v, want %+v", *te, want)
	}
	if te.Error() != msg {
		t.Errorf("Error() = %q, want %q", te.Error(), msg)
	}
}
