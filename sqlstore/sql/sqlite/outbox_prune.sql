-- FinishAlerts: delete at most 100 finished alerts (delivered or given up)
-- created before $1, oldest first, through tickflow_outbox_done_idx.
DELETE FROM tickflow_outbox
WHERE id IN (SELECT id FROM tickflow_outbox
             WHERE next_attempt_at IS NULL AND created_at < $1
             ORDER BY created_at
             LIMIT 100)
