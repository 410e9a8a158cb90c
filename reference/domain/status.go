package domain

import (
	"errors"
	"fmt"
)

// Status is the lifecycle state of an order, stored in orders.status.
type Status string

// The order statuses. An order starts in StatusCart; StatusShipped and
// StatusCancelled are terminal.
const (
	StatusCart      Status = "cart"
	StatusConfirmed Status = "confirmed"
	StatusShipped   Status = "shipped"
	StatusCancelled Status = "cancelled"
)

// Statuses returns every status in display order (status_labels.position).
func Statuses() []Status {
	return []Status{StatusCart, StatusConfirmed, StatusShipped, StatusCancelled}
}

// ParseStatus returns the Status named s, or an error naming the valid ones.
func ParseStatus(s string) (Status, error) {
	st := Status(s)
	if !st.Valid() {
		return "", fmt.Errorf("unknown order status %q (want cart, confirmed, shipped or cancelled)", s)
	}
	return st, nil
}

// Valid reports whether s is one of the defined statuses.
func (s Status) Valid() bool {
	switch s {
	case StatusCart, StatusConfirmed, StatusShipped, StatusCancelled:
		return true
	}
	return false
}

// Label returns the human label shown to customers, as seeded into
// status_labels.label, or "" for an invalid status.
func (s Status) Label() string {
	switch s {
	case StatusCart:
		return "In your cart"
	case StatusConfirmed:
		return "Confirmed"
	case StatusShipped:
		return "Shipped"
	case StatusCancelled:
		return "Cancelled"
	}
	return ""
}

// Position returns the display position seeded into status_labels.position
// (1 for cart to 4 for cancelled), or 0 for an invalid status.
func (s Status) Position() int {
	switch s {
	case StatusCart:
		return 1
	case StatusConfirmed:
		return 2
	case StatusShipped:
		return 3
	case StatusCancelled:
		return 4
	}
	return 0
}

// Terminal reports whether no transition leaves s.
func (s Status) Terminal() bool { return s == StatusShipped || s == StatusCancelled }

// CanTransition reports whether an order may move from one status to
// another: cart → confirmed, confirmed → shipped, and cart or confirmed →
// cancelled. Nothing else is allowed: a status never regresses, never
// stays the same through a transition, and nothing leaves shipped or
// cancelled.
func CanTransition(from, to Status) bool {
	switch to {
	case StatusConfirmed:
		return from == StatusCart
	case StatusShipped:
		return from == StatusConfirmed
	case StatusCancelled:
		return from == StatusCart || from == StatusConfirmed
	}
	return false
}

// ErrInvalidTransition matches (with errors.Is) every *TransitionError.
var ErrInvalidTransition = errors.New("invalid order status transition")

// TransitionError reports a command that the order's current status does
// not allow: a transition CanTransition rejects, or add_line on an order
// that is no longer a cart. Architectures return it (wrapped or not) and
// the harness counts it; it is never a crash.
type TransitionError struct {
	// OrderID is the order the command addressed.
	OrderID int64
	// Command is the command that was refused.
	Command Kind
	// From is the order's status when the command ran.
	From Status
	// To is the status the command needed to move to (for add_line: the
	// status it requires, StatusCart).
	To Status
}

// Error implements error.
func (e *TransitionError) Error() string {
	if e.Command == KindAddLine {
		return fmt.Sprintf("order %d: add_line needs status %s, order is %s", e.OrderID, e.To, e.From)
	}
	return fmt.Sprintf("order %d: %s cannot move status %s → %s", e.OrderID, e.Command, e.From, e.To)
}

// Is makes errors.Is(err, ErrInvalidTransition) true.
func (e *TransitionError) Is(target error) bool { return target == ErrInvalidTransition }

// CheckTransition returns nil if an order in status from may run the
// transition command cmd (ConfirmOrder, ShipOrder or CancelOrder), and a
// *TransitionError otherwise.
func CheckTransition(cmd Transition, from Status) error {
	to := cmd.Target()
	if !CanTransition(from, to) {
		return &TransitionError{OrderID: cmd.Order(), Command: cmd.Kind(), From: from, To: to}
	}
	return nil
}

// CheckAddLine returns nil if an order in status may receive a new line
// (only carts may) and a *TransitionError otherwise.
func CheckAddLine(cmd AddLine, status Status) error {
	if status != StatusCart {
		return &TransitionError{OrderID: cmd.OrderID, Command: KindAddLine, From: status, To: StatusCart}
	}
	return nil
}
