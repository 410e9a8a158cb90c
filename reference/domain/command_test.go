package domain_test

import (
	"errors"
	"fmt"
	"slices"
	"testing"

	"github.com/cqrsbench/cqrsbench/reference/domain"
)

func TestCommandKinds(t *testing.T) {
	t.Parallel()
	cmds := []domain.Command{domain.CreateOrder{}, domain.AddLine{}, domain.ConfirmOrder{}, domain.ShipOrder{}, domain.CancelOrder{}}
	want := []domain.Kind{"create_order", "add_line", "confirm_order", "ship_order", "cancel_order"}
	var got []domain.Kind
	for _, c := range cmds {
		got = append(got, c.Kind())
	}
	if !slices.Equal(got, want) {
		t.Errorf("kinds = %v, want %v", got, want)
	}
	if !slices.Equal(domain.Kinds(), want) {
		t.Errorf("Kinds() = %v, want %v", domain.Kinds(), want)
	}
}

func TestCommandValidate(t *testing.T) {
	t.Parallel()
	line := domain.Line{ProductID: 3, Quantity: 2, UnitPriceCents: 1999}
	lines := func(n int) []domain.Line { return slices.Repeat([]domain.Line{line}, n) }
	tests := []struct {
		name    string
		cmd     domain.Command
		field   string // "" when valid
		message string
	}{
		{"create one line", domain.CreateOrder{CustomerID: 1, ShippingAddressID: 2, Lines: lines(1)}, "", ""},
		{"create five lines", domain.CreateOrder{CustomerID: 1, ShippingAddressID: 2, Lines: lines(5)}, "", ""},
		{"create free line", domain.CreateOrder{CustomerID: 1, ShippingAddressID: 2, Lines: []domain.Line{{ProductID: 1, Quantity: 1}}}, "", ""},
		{"create no lines", domain.CreateOrder{CustomerID: 1, ShippingAddressID: 2}, "lines", "create_order: lines must hold 1 to 5 lines, got 0"},
		{"create six lines", domain.CreateOrder{CustomerID: 1, ShippingAddressID: 2, Lines: lines(6)}, "lines", "create_order: lines must hold 1 to 5 lines, got 6"},
		{"create no customer", domain.CreateOrder{ShippingAddressID: 2, Lines: lines(1)}, "customer_id", "create_order: customer_id must be ≥ 1, got 0"},
		{"create no address", domain.CreateOrder{CustomerID: 1, ShippingAddressID: -4, Lines: lines(1)}, "shipping_address_id", "create_order: shipping_address_id must be ≥ 1, got -4"},
		{"create zero quantity", domain.CreateOrder{CustomerID: 1, ShippingAddressID: 2, Lines: append(lines(2), domain.Line{ProductID: 1})},
			"lines[2].quantity", "create_order: lines[2].quantity must be 1 to 1000, got 0"},
		{"create negative price", domain.CreateOrder{CustomerID: 1, ShippingAddressID: 2, Lines: []domain.Line{{ProductID: 1, Quantity: 1, UnitPriceCents: -1}}},
			"lines[0].unit_price_cents", "create_order: lines[0].unit_price_cents must be ≥ 0, got -1"},
		{"create no product", domain.CreateOrder{CustomerID: 1, ShippingAddressID: 2, Lines: []domain.Line{{Quantity: 1}}},
			"lines[0].product_id", "create_order: lines[0].product_id must be ≥ 1, got 0"},
		{"add line", domain.AddLine{OrderID: 5, Line: line}, "", ""},
		{"add line no order", domain.AddLine{Line: line}, "order_id", "add_line: order_id must be ≥ 1, got 0"},
		{"add line huge quantity", domain.AddLine{OrderID: 5, Line: domain.Line{ProductID: 1, Quantity: 1001}},
			"line.quantity", "add_line: line.quantity must be 1 to 1000, got 1001"},
		{"confirm", domain.ConfirmOrder{OrderID: 1}, "", ""},
		{"confirm no order", domain.ConfirmOrder{}, "order_id", "confirm_order: order_id must be ≥ 1, got 0"},
		{"ship", domain.ShipOrder{OrderID: 1}, "", ""},
		{"ship no order", domain.ShipOrder{OrderID: -1}, "order_id", "ship_order: order_id must be ≥ 1, got -1"},
		{"cancel", domain.CancelOrder{OrderID: 1}, "", ""},
		{"cancel no order", domain.CancelOrder{}, "order_id", "cancel_order: order_id must be ≥ 1, got 0"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := tt.cmd.Validate()
			if tt.field == "" {
				if err != nil {
					t.Fatalf("Validate() = %v, want nil", err)
				}
				return
			}
			wrapped := fmt.Errorf("run: %w", err)
			if !errors.Is(wrapped, domain.ErrInvalidCommand) || errors.Is(wrapped, domain.ErrInvalidTransition) {
				t.Errorf("Validate() = %v: want an error matching ErrInvalidCommand only", err)
			}
			ve, ok := errors.AsType[*domain.ValidationError](wrapped)
			if !ok {
				t.Fatalf("Validate() = %v (%T), want *ValidationError", err, err)
			}
			if ve.Command != tt.cmd.Kind() || ve.Field != tt.field {
				t.Errorf("ValidationError{Command: %q, Field: %q}, want {%q, %q}", ve.Command, ve.Field, tt.cmd.Kind(), tt.field)
			}
			if err.Error() != tt.message {
				t.Errorf("Error() = %q, want %q", err.Error(), tt.message)
			}
		})
	}
}
