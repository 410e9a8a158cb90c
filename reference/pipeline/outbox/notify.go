package outbox

import (
	"hash/fnv"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"
)

// WakeLock returns the advisory lock key (a pair of int4) that arms the
// relays of channel.
func WakeLock(channel string) (int32, int32) {
	h := fnv.New64a()
	h.Write([]byte("cqrsbench relay wake " + channel))
	v := h.Sum64()
	return int32(v >> 32), int32(v)
}

// notifyTriggerSQL creates the outbox trigger: {{schema}} is the quoted
// schema, {{channel}} the channel as a literal, {{k1}} and {{k2}} the
// WakeLock.
const notifyTriggerSQL = `
CREATE FUNCTION {{schema}}.outbox_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    -- A relay waiting for notifications holds this lock exclusively (see
    -- package reference/pipeline/relay); otherwise relays poll, and the
    -- command skips NOTIFY, which serializes commits.
    IF NOT pg_try_advisory_xact_lock_shared({{k1}}, {{k2}}) THEN
        PERFORM pg_notify({{channel}}, '');
    END IF;
    RETURN NULL;
END
$$;
CREATE TRIGGER outbox_notify AFTER INSERT ON {{schema}}.outbox
    FOR EACH ROW EXECUTE FUNCTION {{schema}}.outbox_notify()`

// NotifyTriggerSQL returns the SQL that creates the trigger on
// schema.outbox that wakes relays listening on channel: a row trigger
// (statement triggers fire for commands that insert nothing too) that
// notifies only while a relay is armed (see the wake protocol in package
// relay). PostgreSQL delivers a notification at commit, when the row is
// visible, and folds identical ones of a transaction into one.
func NotifyTriggerSQL(schema, channel string) string {
	k1, k2 := WakeLock(channel)
	return strings.NewReplacer(
		"{{schema}}", pgx.Identifier{schema}.Sanitize(),
		"{{channel}}", "'"+strings.ReplaceAll(channel, "'", "''")+"'",
		"{{k1}}", strconv.Itoa(int(k1)), "{{k2}}", strconv.Itoa(int(k2)),
	).Replace(notifyTriggerSQL)
}
