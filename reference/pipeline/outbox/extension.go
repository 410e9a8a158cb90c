package outbox

import (
	"strings"

	"github.com/cqrsbench/cqrsbench/reference/writemodel"
)

// payloadSQL builds the event (event.OrderEvent's wire format) from the
// columns named by the placeholders, each an SQL expression over the CTEs
// of the command.
const payloadSQL = `jsonb_build_object(
        'type', {{type}}, 'order_id', {{row}}.id, 'version', {{row}}.version,
        'customer_id', {{row}}.customer_id, 'number', {{row}}.number, 'created_at', {{row}}.created_at,
        'status', {{row}}.status, 'status_label', sl.label,
        'total_cents', {{total}}, 'item_count', {{items}}, 'first_image_url', coalesce(img.url, ''),
        'prev_status', {{prev_status}}, 'prev_total_cents', {{prev_total}},
        'emitted_at', clock_timestamp())`

// firstImageSQL is the first image of the product on line 1 of the order
// {{row}}.id, from the committed lines (add_line and transitions never
// change line 1).
const firstImageSQL = `
    LEFT JOIN LATERAL (
        SELECT pi.url FROM {{schema}}.order_lines ol
        JOIN {{schema}}.product_images pi ON pi.product_id = ol.product_id
        WHERE ol.order_id = {{row}}.id AND ol.line_no = 1
        ORDER BY pi.position LIMIT 1
    ) img ON true`

// totalsSQL sums the committed lines of the order {{row}}.id.
const totalsSQL = `
    CROSS JOIN LATERAL (
        SELECT coalesce(sum(ol.quantity::bigint * ol.unit_price_cents), 0)::bigint AS total_cents,
               coalesce(sum(ol.quantity), 0)::bigint AS item_count
        FROM {{schema}}.order_lines ol WHERE ol.order_id = {{row}}.id
    ) t`

// outboxInsert is the head of every extension's outbox insert.
const outboxInsert = `,
pipeline_outbox AS (
    INSERT INTO {{schema}}.outbox (aggregate_id, type, version, payload)
    SELECT {{row}}.id, {{type}}, {{row}}.version, `

// createExt: the order and its lines were just inserted (CTEs o and l); the
// image is looked up from l, which the statement's snapshot of order_lines
// does not contain.
var createExt = fill(outboxInsert+payloadSQL+`
    FROM o
    JOIN {{schema}}.status_labels sl ON sl.status = o.status
    CROSS JOIN (
        SELECT sum(l.quantity::bigint * l.unit_price_cents)::bigint AS total_cents, sum(l.quantity)::bigint AS item_count FROM l
    ) t
    LEFT JOIN LATERAL (
        SELECT pi.url FROM l JOIN {{schema}}.product_images pi ON pi.product_id = l.product_id
        WHERE l.line_no = 1 ORDER BY pi.position LIMIT 1
    ) img ON true
)`, map[string]string{
	"{{row}}": "o", "{{type}}": "'order_created'", "{{total}}": "t.total_cents", "{{items}}": "t.item_count",
	"{{prev_status}}": "''", "{{prev_total}}": "0",
})

// addLineExt: u is the updated order, l the new line; the statement sees
// the order's other lines (committed before its lock) but not l.
var addLineExt = fill(outboxInsert+payloadSQL+`
    FROM u
    CROSS JOIN l
    JOIN {{schema}}.status_labels sl ON sl.status = u.status`+totalsSQL+firstImageSQL+`
)`, map[string]string{
	"{{row}}": "u", "{{type}}": "'line_added'",
	"{{total}}": "t.total_cents + l.quantity::bigint * l.unit_price_cents", "{{items}}": "t.item_count + l.quantity",
	"{{prev_status}}": "u.prev_status", "{{prev_total}}": "t.total_cents",
})

// transitionExt: u is the updated order with its prev_status; lines are
// unchanged, and visible only because the transition runs after locking the
// order in a statement of its own (Extension.LockBeforeTransition).
var transitionExt = fill(outboxInsert+payloadSQL+`
    FROM u
    JOIN {{schema}}.status_labels sl ON sl.status = u.status`+totalsSQL+firstImageSQL+`
)`, map[string]string{
	"{{row}}": "u", "{{type}}": "'order_' || u.status", "{{total}}": "t.total_cents", "{{items}}": "t.item_count",
	"{{prev_status}}": "u.prev_status", "{{prev_total}}": "t.total_cents",
})

// fill replaces placeholders (other than {{schema}}, which writemodel
// expands).
func fill(sql string, values map[string]string) string {
	for k, v := range values {
		sql = strings.ReplaceAll(sql, k, v)
	}
	return sql
}

// Extension returns the writemodel extension that inserts each successful
// command's event (event.OrderEvent's wire format) into the outbox, in the
// command's statement and so in its transaction. Systems build their
// writemodel.Store with it; tools that run commands themselves (e.g. inside
// a transaction they hold open, to create a visibility gap) do too.
func Extension() writemodel.Extension {
	// Transitions sum the order's lines into the event: they must see a
	// line added by a transaction they waited for.
	return writemodel.Extension{Create: createExt, AddLine: addLineExt, Transition: transitionExt, LockBeforeTransition: true}
}
