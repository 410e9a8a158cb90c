-- order_read_model: one row per order with everything "My orders" shows.
-- LATERAL subqueries keyed by the order, so that the projection restricted
-- to one order_id reads only that order's lines.
SELECT o.id AS order_id, o.customer_id, o.number, o.created_at, o.status,
       sl.label AS status_label, t.total_cents, t.item_count,
       coalesce(img.url, '') AS first_image_url, o.version
FROM orders o
JOIN status_labels sl ON sl.status = o.status
CROSS JOIN LATERAL (
    SELECT coalesce(sum(ol.quantity::bigint * ol.unit_price_cents), 0)::bigint AS total_cents,
           coalesce(sum(ol.quantity), 0)::bigint AS item_count
    FROM order_lines ol WHERE ol.order_id = o.id
) t
LEFT JOIN LATERAL (
    SELECT pi.url FROM order_lines ol
    JOIN product_images pi ON pi.product_id = ol.product_id
    WHERE ol.order_id = o.id AND ol.line_no = 1
    ORDER BY pi.position LIMIT 1
) img ON true
