package relay_test

import (
	"testing"

	"github.com/cqrsbench/cqrsbench/reference/pipeline/relay"
)

func TestParseMode(t *testing.T) {
	t.Parallel()
	for _, s := range []string{"skip-locked", "naive-cursor"} {
		if m, err := relay.ParseMode(s); err != nil || string(m) != s {
			t.Errorf("ParseMode(%q) = %q, %v", s, m, err)
		}
	}
	if _, err := relay.ParseMode("cursor"); err == nil {
		t.Error("ParseMode(cursor) = nil error")
	}
}

func TestConfigDefaultsAndValidate(t *testing.T) {
	t.Parallel()
	c := relay.Config{Schema: "s"}
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	d := c.WithDefaults()
	if d.Mode != relay.ModeSkipLocked || d.Relays != 1 || d.BatchSize != relay.DefaultBatchSize ||
		d.PollInterval != relay.DefaultPollInterval || d.ActivePollInterval != relay.DefaultActivePollInterval {
		t.Errorf("defaults: %+v", d)
	}
	for _, bad := range []relay.Config{
		{},
		{Schema: "s", Relays: 65},
		{Schema: "s", Mode: relay.ModeNaiveCursor, Relays: 2},
		{Schema: "s", Linger: -1},
		{Schema: "s", DuplicateFraction: -0.1},
	} {
		if err := bad.Validate(); err == nil {
			t.Errorf("Validate(%+v) = nil, want an error", bad)
		}
	}
}
