-- The read model of the "my tickets" screen: one row per ticket with what
-- the screen shows — the customer's name, the last comment, the tags — so
-- the screen is one indexed read instead of four joins.
SELECT t.id,
       t.assignee_id,
       t.status,
       t.priority,
       t.updated_at,
       c.name                     AS customer_name,
       t.subject,
       lc.created_at              AS last_comment_at,
       lc.body                    AS last_comment,
       coalesce(tg.tags, '')      AS tags
FROM tickets t
JOIN customers c ON c.id = t.customer_id
LEFT JOIN LATERAL (
    SELECT cm.created_at, cm.body
    FROM comments cm
    WHERE cm.ticket_id = t.id
    ORDER BY cm.created_at DESC, cm.id DESC
    LIMIT 1
) lc ON true
LEFT JOIN LATERAL (
    SELECT string_agg(g.name, ',' ORDER BY g.name) AS tags
    FROM ticket_tags x
    JOIN tags g ON g.id = x.tag_id
    WHERE x.ticket_id = t.id
) tg ON true
