package domain

import (
	"errors"
	"fmt"
)

// Kind names a command; it is the name used in scenarios, metrics and
// reports.
type Kind string

// The command kinds.
const (
	KindCreateOrder  Kind = "create_order"
	KindAddLine      Kind = "add_line"
	KindConfirmOrder Kind = "confirm_order"
	KindShipOrder    Kind = "ship_order"
	KindCancelOrder  Kind = "cancel_order"
)

// Kinds returns every command kind.
func Kinds() []Kind {
	return []Kind{KindCreateOrder, KindAddLine, KindConfirmOrder, KindShipOrder, KindCancelOrder}
}

// Limits of command contents.
const (
	// MinCreateLines and MaxCreateLines bound the lines of a create_order.
	MinCreateLines = 1
	MaxCreateLines = 5
	// MaxQuantity is the largest quantity of one line.
	MaxQuantity = 1000
)

// InitialVersion is the version of an order right after create_order. Every
// later command that changes the order (add_line, confirm_order,
// ship_order, cancel_order) increments it by one.
const InitialVersion = 1

// Command is a request to change the write model. Each command runs as one
// transaction in every architecture.
type Command interface {
	// Kind returns the command's name.
	Kind() Kind
	// Validate checks what can be checked without the database and
	// returns a *ValidationError if the command is malformed.
	Validate() error
}

// Transition is a command that moves an order to another status.
type Transition interface {
	Command
	// Order returns the id of the order to move.
	Order() int64
	// Target returns the status the command moves the order to.
	Target() Status
}

// Compile-time checks that every command implements its interfaces.
var (
	_ Command    = CreateOrder{}
	_ Command    = AddLine{}
	_ Transition = ConfirmOrder{}
	_ Transition = ShipOrder{}
	_ Transition = CancelOrder{}
)

// Line is one order line as a command carries it: the product, how many,
// and the unit price the customer saw (stored as order_lines.unit_price_cents).
type Line struct {
	ProductID      int64
	Quantity       int32
	UnitPriceCents int32
}

// ErrInvalidCommand matches (with errors.Is) every *ValidationError.
var ErrInvalidCommand = errors.New("invalid command")

// ValidationError reports a malformed command, found before touching the
// database.
type ValidationError struct {
	// Command is the kind of the malformed command.
	Command Kind
	// Field names the offending field, e.g. "lines[2].quantity".
	Field string
	// Problem says what is wrong, e.g. "must be ≥ 1, got 0".
	Problem string
}

// Error implements error.
func (e *ValidationError) Error() string {
	return fmt.Sprintf("%s: %s %s", e.Command, e.Field, e.Problem)
}

// Is makes errors.Is(err, ErrInvalidCommand) true.
func (e *ValidationError) Is(target error) bool { return target == ErrInvalidCommand }

// CreateOrder creates an order in status cart with 1 to 5 lines.
type CreateOrder struct {
	CustomerID        int64
	ShippingAddressID int64
	Lines             []Line
}

// Kind implements Command.
func (CreateOrder) Kind() Kind { return KindCreateOrder }

// Validate implements Command.
func (c CreateOrder) Validate() error {
	if err := checkID(c.Kind(), "customer_id", c.CustomerID); err != nil {
		return err
	}
	if err := checkID(c.Kind(), "shipping_address_id", c.ShippingAddressID); err != nil {
		return err
	}
	if n := len(c.Lines); n < MinCreateLines || n > MaxCreateLines {
		return &ValidationError{Command: c.Kind(), Field: "lines",
			Problem: fmt.Sprintf("must hold %d to %d lines, got %d", MinCreateLines, MaxCreateLines, n)}
	}
	for i, l := range c.Lines {
		if err := l.validate(c.Kind(), fmt.Sprintf("lines[%d].", i)); err != nil {
			return err
		}
	}
	return nil
}

// AddLine adds a line to an order that is still a cart.
type AddLine struct {
	OrderID int64
	Line    Line
}

// Kind implements Command.
func (AddLine) Kind() Kind { return KindAddLine }

// Validate implements Command.
func (c AddLine) Validate() error {
	if err := checkID(c.Kind(), "order_id", c.OrderID); err != nil {
		return err
	}
	return c.Line.validate(c.Kind(), "line.")
}

// ConfirmOrder moves a cart to confirmed.
type ConfirmOrder struct{ OrderID int64 }

// Kind implements Command.
func (ConfirmOrder) Kind() Kind { return KindConfirmOrder }

// Validate implements Command.
func (c ConfirmOrder) Validate() error { return checkID(c.Kind(), "order_id", c.OrderID) }

// Order implements Transition.
func (c ConfirmOrder) Order() int64 { return c.OrderID }

// Target implements Transition.
func (ConfirmOrder) Target() Status { return StatusConfirmed }

// ShipOrder moves a confirmed order to shipped.
type ShipOrder struct{ OrderID int64 }

// Kind implements Command.
func (ShipOrder) Kind() Kind { return KindShipOrder }

// Validate implements Command.
func (c ShipOrder) Validate() error { return checkID(c.Kind(), "order_id", c.OrderID) }

// Order implements Transition.
func (c ShipOrder) Order() int64 { return c.OrderID }

// Target implements Transition.
func (ShipOrder) Target() Status { return StatusShipped }

// CancelOrder moves a cart or a confirmed order to cancelled.
type CancelOrder struct{ OrderID int64 }

// Kind implements Command.
func (CancelOrder) Kind() Kind { return KindCancelOrder }

// Validate implements Command.
func (c CancelOrder) Validate() error { return checkID(c.Kind(), "order_id", c.OrderID) }

// Order implements Transition.
func (c CancelOrder) Order() int64 { return c.OrderID }

// Target implements Transition.
func (CancelOrder) Target() Status { return StatusCancelled }

func (l Line) validate(kind Kind, prefix string) error {
	if err := checkID(kind, prefix+"product_id", l.ProductID); err != nil {
		return err
	}
	if l.Quantity < 1 || l.Quantity > MaxQuantity {
		return &ValidationError{Command: kind, Field: prefix + "quantity",
			Problem: fmt.Sprintf("must be 1 to %d, got %d", MaxQuantity, l.Quantity)}
	}
	if l.UnitPriceCents < 0 {
		return &ValidationError{Command: kind, Field: prefix + "unit_price_cents",
			Problem: fmt.Sprintf("must be ≥ 0, got %d", l.UnitPriceCents)}
	}
	return nil
}

func checkID(kind Kind, field string, id int64) error {
	if id < 1 {
		return &ValidationError{Command: kind, Field: field, Problem: fmt.Sprintf("must be ≥ 1, got %d", id)}
	}
	return nil
}
