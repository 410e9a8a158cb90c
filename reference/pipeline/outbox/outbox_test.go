package outbox_test

import (
	"strings"
	"testing"

	"github.com/cqrsbench/cqrsbench/reference/pipeline/outbox"
)

func TestChannelFitsIdentifier(t *testing.T) {
	t.Parallel()
	if got := outbox.Channel("cqrs_kafka"); got != "cqrs_kafka_outbox" {
		t.Errorf("Channel = %q", got)
	}
	if got := outbox.Channel(strings.Repeat("s", 63)); len(got) != 63 || !strings.HasSuffix(got, "_outbox") {
		t.Errorf("Channel of a 63-byte schema = %q (%d bytes)", got, len(got))
	}
}

func TestNotifyTriggerQuotes(t *testing.T) {
	t.Parallel()
	sql := outbox.NotifyTriggerSQL("My Schema", "it's")
	k1, k2 := outbox.WakeLock("it's")
	for _, want := range []string{`"My Schema".outbox`, `pg_notify('it''s', '')`, "pg_try_advisory_xact_lock_shared("} {
		if !strings.Contains(sql, want) {
			t.Errorf("trigger SQL lacks %q:\n%s", want, sql)
		}
	}
	if k1 == 0 && k2 == 0 {
		t.Error("WakeLock returned 0, 0")
	}
}
