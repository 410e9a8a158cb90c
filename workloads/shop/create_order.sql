-- An order in status cart with its lines, for an address of the customer
-- (no row: the address is not the customer's). The number is derived from
-- the id, taken first from the identity's sequence.
WITH n AS (SELECT nextval(pg_get_serial_sequence('orders', 'id')) AS id),
o AS (
    INSERT INTO orders (id, number, customer_id, shipping_address_id, status, created_at, updated_at, version)
    SELECT n.id, 'ORD-' || lpad(n.id::text, 10, '0'), a.customer_id, a.id, 'cart', now(), now(), 1
    FROM n JOIN addresses a ON a.id = :address.id AND a.customer_id = :address.customer_id
    RETURNING id, status, (created_at AT TIME ZONE 'UTC')::date AS day
),
l AS (
    INSERT INTO order_lines (order_id, line_no, product_id, quantity, unit_price_cents)
    SELECT o.id, t.line_no, t.product_id, t.quantity, t.unit_price_cents
    FROM o, unnest(:lines.id::bigint[], :lines.quantity::int[], :lines.price_cents::int[])
         WITH ORDINALITY AS t(product_id, quantity, unit_price_cents, line_no)
    RETURNING order_id
)
SELECT o.id, o.day, o.status FROM o
