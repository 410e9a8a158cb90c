-- An agent's open and pending tickets with the customer, the last comment
-- and the tags: the joins the ticket_list read model flattens. Written as
-- an application would, not as the projection is: the checker and the
-- pack's tests compare the two.
SELECT t.id, c.name AS customer_name, t.subject, t.status, t.priority, t.updated_at,
       lc.created_at AS last_comment_at, lc.body AS last_comment,
       coalesce((SELECT string_agg(g.name, ',' ORDER BY g.name)
                 FROM tags g
                 WHERE g.id IN (SELECT x.tag_id FROM ticket_tags x WHERE x.ticket_id = t.id)), '') AS tags
FROM tickets t
JOIN customers c ON c.id = t.customer_id
LEFT JOIN LATERAL (
    SELECT cm.created_at, cm.body FROM comments cm
    WHERE cm.ticket_id = t.id
    ORDER BY cm.created_at DESC, cm.id DESC
    LIMIT 1
) lc ON true
WHERE t.assignee_id = :agent.id
  AND t.status IN ('open', 'pending')
ORDER BY t.priority, t.updated_at DESC, t.id
LIMIT 50
