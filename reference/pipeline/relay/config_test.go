package relay_test

import (
	"strings"
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

// TestWALNamesFitTheServersRules: the WAL relay's slot and publication
// names are lower-case letters, digits and underscores of at most 63
// bytes, distinct for distinct schemas however long or oddly spelled.
func TestWALNamesFitTheServersRules(t *testing.T) {
	long := strings.Repeat("helpdesk_", 7)
	schemas := []string{"cqrs_kafka", long + "a", long + "b", "Shop-EU", "shop_eu"}
	seen := map[string]string{}
	for _, schema := range schemas {
		for _, name := range []string{relay.SlotName(schema), relay.PublicationName(schema)} {
			if len(name) > 63 || strings.Trim(name, "abcdefghijklmnopqrstuvwxyz0123456789_") != "" {
				t.Errorf("schema %q: name %q breaks the rules", schema, name)
			}
			if other, dup := seen[name]; dup {
				t.Errorf("schemas %q and %q share the name %q", other, schema, name)
			}
			seen[name] = schema
		}
	}
	if got := relay.SlotName("cqrs_kafka"); got != "cqrsbench_cqrs_kafka_relay" {
		t.Errorf("SlotName(cqrs_kafka) = %q, want the plain name for a plain schema", got)
	}
}
