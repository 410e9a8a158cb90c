package scenarios

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
)

// Sweep runs the whole scenario (every architecture, every round) once per
// value of one parameter of the dataset's shape or of the mix, so a figure
// can be followed as the workload changes: does the flat read model's p99
// stay flat while crud's join grows with the customer's page? Where does
// a CQRS architecture's capacity overtake crud's as reads grow?
type Sweep struct {
	// Parameter is what changes (SweepParameters lists them).
	Parameter SweepParameter `yaml:"parameter" json:"parameter"`
	// Values are the parameter's values, run in this order.
	Values []float64 `yaml:"values,flow" json:"values"`
}

// SweepParameter names what a sweep changes.
type SweepParameter string

// The sweep parameters; sweepParameters knows what each one sets.
const (
	// SweepOrdersPerCustomer sets dataset.customers to dataset.orders
	// divided by the value: the same number of orders over fewer
	// customers, so each customer's screen lists more of them.
	SweepOrdersPerCustomer SweepParameter = "orders_per_customer"
	// SweepOrders sets dataset.orders (and the customers with it, at the
	// scenario's orders per customer).
	SweepOrders SweepParameter = "orders"
	// SweepReadShare sets the share of the mix's weight that goes to
	// reads (0 to 1); reads keep their weights relative to each other,
	// and so do commands.
	SweepReadShare SweepParameter = "read_share"
)

// SweepParameters returns every sweep parameter with what it sets.
func SweepParameters() map[SweepParameter]string {
	out := map[SweepParameter]string{}
	for p, sp := range sweepParameters() {
		out[p] = sp.sets
	}
	return out
}

// sweepParam is what one parameter sets and how.
type sweepParam struct {
	sets  string
	apply func(s *Scenario, v float64) error
}

// sweepParameters is the one place that knows each sweep parameter.
func sweepParameters() map[SweepParameter]sweepParam {
	return map[SweepParameter]sweepParam{
		SweepOrdersPerCustomer: {"dataset.customers = dataset.orders / value (how full a customer's screen is)", func(s *Scenario, v float64) error {
			if v < 1 || v > float64(s.Dataset.Orders) {
				return fmt.Errorf("orders per customer must be between 1 and dataset.orders (%d), got %s", s.Dataset.Orders, got(v))
			}
			s.Dataset.Customers = max(1, int(math.Round(float64(s.Dataset.Orders)/v)))
			return nil
		}},
		SweepOrders: {"dataset.orders (customers follow at the scenario's orders per customer)", func(s *Scenario, v float64) error {
			if v < 1 || v != math.Trunc(v) {
				return fmt.Errorf("orders must be a whole number >= 1, got %s", got(v))
			}
			perCustomer := float64(s.Dataset.Orders) / float64(s.Dataset.Customers)
			s.Dataset.Orders = int(v)
			s.Dataset.Customers = max(1, int(math.Round(v/perCustomer)))
			return nil
		}},
		SweepReadShare: {"the mix's read share, 0 to 1 (reads and commands keep their relative weights)", func(s *Scenario, v float64) error {
			if v < 0 || v > 1 {
				return fmt.Errorf("a read share is between 0 and 1, got %s", got(v))
			}
			return s.setReadShare(v)
		}},
	}
}

// setReadShare rescales the mix so that reads carry share of its weight.
func (s *Scenario) setReadShare(share float64) error {
	queries := map[Op]bool{}
	for _, op := range s.Workload().Operations() {
		queries[Op(op.Name)] = op.Query
	}
	var reads, commands float64
	for op, w := range s.Mix {
		if queries[op] {
			reads += w
		} else {
			commands += w
		}
	}
	if (share > 0 && reads == 0) || (share < 1 && commands == 0) {
		return fmt.Errorf("the mix needs both reads and commands to set a read share of %s", got(share))
	}
	mix := Mix{}
	for op, w := range s.Mix {
		if queries[op] {
			mix[op] = w / reads * share
		} else {
			mix[op] = w / commands * (1 - share)
		}
	}
	s.Mix = mix
	return nil
}

// ReadShare returns the share of the mix's weight that goes to reads.
func (s *Scenario) ReadShare() float64 {
	var reads float64
	for _, op := range s.Workload().Operations() {
		if op.Query {
			reads += s.Mix[Op(op.Name)]
		}
	}
	if t := s.Mix.Total(); t > 0 {
		return reads / t
	}
	return 0
}

// SweepPoints returns the scenarios a sweep runs, one per value in order:
// copies of s with the parameter set and no sweep. Without a sweep it
// returns s alone.
func (s *Scenario) SweepPoints() ([]*Scenario, error) {
	if s.Sweep == nil {
		return []*Scenario{s}, nil
	}
	p, ok := sweepParameters()[s.Sweep.Parameter]
	if !ok {
		return nil, fmt.Errorf("sweep.parameter: unknown %q; use one of %s", s.Sweep.Parameter, sweepParameterNames())
	}
	var out []*Scenario
	for _, v := range s.Sweep.Values {
		c := s.Clone()
		c.Sweep = nil
		if err := p.apply(c, v); err != nil {
			return nil, fmt.Errorf("sweep %s=%s: %w", s.Sweep.Parameter, got(v), err)
		}
		out = append(out, c)
	}
	return out, nil
}

// sweepParameterNames lists the parameters for an error message.
func sweepParameterNames() string {
	var names []string
	for p := range sweepParameters() {
		names = append(names, string(p))
	}
	slices.Sort(names)
	return strings.Join(names, ", ")
}

// ParseSweep parses --sweep's PARAMETER=V1,V2,... into a Sweep.
func ParseSweep(arg string) (*Sweep, error) {
	name, list, ok := strings.Cut(arg, "=")
	if !ok || list == "" {
		return nil, fmt.Errorf("want PARAMETER=V1,V2,... (e.g. orders_per_customer=5,50,500), got %q", arg)
	}
	sw := &Sweep{Parameter: SweepParameter(strings.TrimSpace(name))}
	for _, f := range strings.Split(list, ",") {
		v, err := strconv.ParseFloat(strings.TrimSpace(f), 64)
		if err != nil {
			return nil, fmt.Errorf("value %q is not a number", f)
		}
		sw.Values = append(sw.Values, v)
	}
	return sw, nil
}
