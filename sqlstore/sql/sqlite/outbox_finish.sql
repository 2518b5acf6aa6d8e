-- FinishAlerts: record delivery outcomes, each only while the row is still
-- claimed by tick $2 with the same attempts (fencing). Delivered: stamped
-- $1 (unix µs), never due again. Failed: due at retry_us (NULL: given up),
-- with its error. Released (not attempted): due at retry_us, its attempt
-- uncounted. $3 JSON array of {id, attempts, delivered, released, retry_us,
-- error}.
UPDATE tickflow_outbox
SET delivered_at = CASE WHEN x.delivered THEN $1 END,
    next_attempt_at = CASE WHEN x.delivered THEN NULL ELSE x.retry_us END,
    attempts = CASE WHEN x.released THEN tickflow_outbox.attempts - 1 ELSE tickflow_outbox.attempts END,
    last_error = CASE WHEN x.delivered THEN '' WHEN x.released THEN tickflow_outbox.last_error
                      ELSE COALESCE(x.error, '') END
FROM (SELECT j.value ->> 'id' AS id, j.value ->> 'attempts' AS attempts,
             j.value ->> 'delivered' AS delivered, j.value ->> 'released' AS released,
             j.value ->> 'retry_us' AS retry_us, j.value ->> 'error' AS error
      FROM json_each($3) AS j) AS x
WHERE tickflow_outbox.id = x.id AND tickflow_outbox.claimed_by = $2
  AND tickflow_outbox.attempts = x.attempts AND tickflow_outbox.delivered_at IS NULL
