package queueing_test

import (
	"math"
	"strings"
	"testing"
	"time"

	"github.com/cqrsbench/cqrsbench/harness/queueing"
)

// TestOneServerIsMM1: one core and one connection, one operation of
// exponential demand, Poisson arrivals: an M/M/1 queue, whose response
// time is exponential with rate μ − λ, so its p99 is ln(100)/(μ − λ).
func TestOneServerIsMM1(t *testing.T) {
	t.Parallel()
	m := queueing.Model{Cores: 1, Connections: 1, Workers: 1 << 20, MaxQueued: 0.01,
		Ops: []queueing.Op{{Name: "op", Share: 1, Demand: time.Millisecond}}}
	for _, rate := range []float64{200, 500, 800} {
		r, err := m.Simulate(rate, 200_000, 1)
		if err != nil {
			t.Fatal(err)
		}
		want := math.Log(100) / (1000 - rate)
		if got := r.P99["op"].Seconds(); math.Abs(got-want)/want > 0.06 {
			t.Errorf("rate %v: p99 %.2f ms, want M/M/1's %.2f ms", rate, got*1000, want*1000)
		}
	}
}

// TestProcessorSharing: with connections to spare, the operations share
// the cores. One core: an M/M/1 processor-sharing queue, whose mean
// response time is 1/(μ − λ) as FIFO's. Two cores and a light load: an
// operation rarely shares, so its mean is near its demand.
func TestProcessorSharing(t *testing.T) {
	t.Parallel()
	one := queueing.Model{Cores: 1, Connections: 1000, Workers: 1 << 20, MaxQueued: 0.01,
		Ops: []queueing.Op{{Name: "op", Share: 1, Demand: time.Millisecond}}}
	r, err := one.Simulate(700, 200_000, 2)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := r.Mean["op"].Seconds(), 1/(1000.0-700); math.Abs(got-want)/want > 0.06 {
		t.Errorf("1 core, 700/s: mean %.2f ms, want M/M/1-PS's %.2f ms", got*1000, want*1000)
	}
	two := one
	two.Cores = 2
	r, err = two.Simulate(100, 100_000, 2)
	if err != nil {
		t.Fatal(err)
	}
	if got := r.Mean["op"]; got < 970*time.Microsecond || got > 1050*time.Microsecond {
		t.Errorf("2 cores, 100/s: mean %v, want about the 1 ms demand (sharing is rare)", got)
	}
}

// mix is a shop-like mix on 2 cores: quick lists and commands, and 5%
// dashboards a hundred times slower.
func mix(connections int) queueing.Model {
	return queueing.Model{Cores: 2, Connections: connections, Workers: 64, MaxQueued: 0.01, Ops: []queueing.Op{
		{Name: "list", Share: 85, Demand: 400 * time.Microsecond, MaxP99: 100 * time.Millisecond},
		{Name: "dashboard", Share: 5, Demand: 45 * time.Millisecond, MaxP99: time.Second},
		{Name: "command", Share: 10, Demand: 600 * time.Microsecond, MaxP99: 100 * time.Millisecond},
	}}
}

// TestSlowOperationsFillThePool: with 8 connections the dashboards fill
// the pool in bursts and the lists behind them pass their bound well
// before the CPUs are all busy; with 64, the lists share the CPUs instead
// and the mix goes further. Quick operations alone go near the CPU law's
// rate.
func TestSlowOperationsFillThePool(t *testing.T) {
	t.Parallel()
	narrow, err := mix(8).MaxRate(1)
	if err != nil {
		t.Fatal(err)
	}
	wide, err := mix(64).MaxRate(1)
	if err != nil {
		t.Fatal(err)
	}
	bound := mix(8).CPUBound()
	t.Logf("CPU law %.0f/s; 8 connections %.0f/s %v; 64 connections %.0f/s %v", bound, narrow.Rate, narrow.P99, wide.Rate, wide.P99)
	if narrow.Rate > 0.75*bound || narrow.Rate >= 0.9*wide.Rate {
		t.Errorf("8 connections sustain %.0f/s, 64 %.0f/s, the CPU law %.0f/s; want 8 well below both", narrow.Rate, wide.Rate, bound)
	}
	quick := queueing.Model{Cores: 2, Connections: 8, Workers: 64, MaxQueued: 0.01,
		Ops: []queueing.Op{{Name: "list", Share: 1, Demand: 500 * time.Microsecond, MaxP99: 100 * time.Millisecond}}}
	r, err := quick.MaxRate(1)
	if err != nil {
		t.Fatal(err)
	}
	if r.Rate < 0.85*quick.CPUBound() {
		t.Errorf("quick operations alone sustain %.0f/s, want near the CPU law's %.0f/s", r.Rate, quick.CPUBound())
	}
	again, _ := mix(8).MaxRate(1)
	if again.Rate != narrow.Rate {
		t.Errorf("MaxRate with one seed: %.0f then %.0f; want the same", narrow.Rate, again.Rate)
	}
}

// TestModelValidate names what is wrong.
func TestModelValidate(t *testing.T) {
	t.Parallel()
	bad := queueing.Model{Cores: 0, Connections: 8, Workers: 64, Ops: []queueing.Op{{Name: "x", Share: 1}}}
	err := bad.Validate()
	if err == nil || !strings.Contains(err.Error(), "cores 0") || !strings.Contains(err.Error(), "operation x") {
		t.Errorf("Validate = %v; want the cores and operation x's demand named", err)
	}
	if _, err := bad.MaxRate(1); err == nil {
		t.Error("MaxRate of an invalid model: no error")
	}
}
