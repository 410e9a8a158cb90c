package datagen

import (
	"errors"
	"fmt"
	"time"
)

// Defaults applied by Config.WithDefaults.
const (
	// OrdersPerCustomer sets the default number of customers: Orders /
	// OrdersPerCustomer (at least 1).
	OrdersPerCustomer = 10
	// DefaultProducts is the default size of the catalogue.
	DefaultProducts = 10_000
	// DefaultSkew is the default Zipf exponent of customer weights.
	DefaultSkew = 2.0
	// DefaultWorkers is the default number of connections Load uses at once.
	DefaultWorkers = 2
	// HistoryDays is how many days before Config.Today the orders start.
	HistoryDays = 90
)

// Limits checked by Config.Validate.
const (
	// MaxOrders keeps order numbers within their ten digits with room to
	// spare.
	MaxOrders = 1_000_000_000
	// maxWeight bounds a customer's Zipf weight: the busiest customers get
	// about maxWeight/mean(weight) times the average number of orders.
	maxWeight = 300
)

// Config describes a dataset. The same Config (same Seed and Today, same
// sizes) always generates byte-identical data; Workers changes only how
// Load loads it.
type Config struct {
	// Orders is the number of orders, at least 1. Each has 1 to 5 lines
	// (3 on average).
	Orders int
	// Customers is the number of customers; 0 means Orders/10 (at least 1).
	Customers int
	// Products is the size of the catalogue; 0 means DefaultProducts.
	Products int
	// Seed selects the dataset.
	Seed uint64
	// Today is the run's day: orders spread from HistoryDays days before
	// its UTC midnight to the end of that day, and their statuses are as
	// of that end (so with today's date, today's orders fill the whole
	// day, later hours included). Only the UTC date counts. Zero means
	// today (time.Now): give a fixed day to reproduce a dataset on another
	// day.
	Today time.Time
	// Skew is the exponent s of the Zipf law of customer weights: a
	// customer's weight k (1 to 300) has probability ∝ k^-s, and each
	// order picks its customer in proportion to the weights. Must be > 1;
	// 0 means DefaultSkew (2.0). With the default and 10 orders per
	// customer on average, the median customer has 4 orders, 44% have one
	// to three, 4% none, 1% more than 130 and the busiest several hundred.
	// Higher values make customers more alike.
	Skew float64
	// Workers is the number of connections Load uses at once; 0 means
	// DefaultWorkers. It does not change the data.
	Workers int
}

// WithDefaults returns c with zero fields replaced by their defaults and
// Today truncated to its UTC midnight.
func (c Config) WithDefaults() Config {
	if c.Customers == 0 {
		c.Customers = max(1, c.Orders/OrdersPerCustomer)
	}
	if c.Products == 0 {
		c.Products = DefaultProducts
	}
	if c.Skew == 0 {
		c.Skew = DefaultSkew
	}
	if c.Workers == 0 {
		c.Workers = DefaultWorkers
	}
	if c.Today.IsZero() {
		c.Today = time.Now()
	}
	y, m, d := c.Today.UTC().Date()
	c.Today = time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
	return c
}

// Validate reports every invalid field; zero fields that have a default are
// valid.
func (c Config) Validate() error {
	var errs []error
	check := func(name string, v, lo, hi int, zero string) {
		switch {
		case v == 0 && zero != "":
		case v < lo:
			errs = append(errs, fmt.Errorf("%s must be ≥ %d%s, got %d", name, lo, zero, v))
		case v > hi:
			errs = append(errs, fmt.Errorf("%s must be ≤ %d, got %d", name, hi, v))
		}
	}
	check("orders", c.Orders, 1, MaxOrders, "")
	check("customers", c.Customers, 1, MaxOrders, fmt.Sprintf(" (or 0 for orders/%d)", OrdersPerCustomer))
	check("products", c.Products, 1, MaxOrders, fmt.Sprintf(" (or 0 for %d)", DefaultProducts))
	check("workers", c.Workers, 1, 64, fmt.Sprintf(" (or 0 for %d)", DefaultWorkers))
	if c.Skew != 0 && !(c.Skew > 1 && c.Skew <= 10) {
		errs = append(errs, fmt.Errorf("skew must be > 1 and ≤ 10 (or 0 for %.1f), got %g", DefaultSkew, c.Skew))
	}
	if !c.Today.IsZero() && c.Today.Year() < 2001 {
		errs = append(errs, fmt.Errorf("today must be in 2001 or later, got %s", c.Today.Format(time.DateOnly)))
	}
	return errors.Join(errs...)
}
