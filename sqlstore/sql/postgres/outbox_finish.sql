-- FinishAlerts: record delivery outcomes, each only while the row is still
-- claimed by tick $2 with the same attempts (fencing). Delivered: stamped
-- $1 (NULL: now()), never due again. Failed: due at retry_us (unix µs;
-- NULL: given up), with its error. Released (not attempted): due at
-- retry_us, its attempt uncounted. $3 JSON array of {id, attempts,
-- delivered, released, retry_us, error}.
UPDATE tickflow_outbox o
SET delivered_at = CASE WHEN x.delivered THEN c.now END,
    next_attempt_at = CASE WHEN x.delivered THEN NULL
                           ELSE timestamptz 'epoch' + x.retry_us * interval '1 microsecond' END,
    attempts = CASE WHEN x.released THEN o.attempts - 1 ELSE o.attempts END,
    last_error = CASE WHEN x.delivered THEN '' WHEN x.released THEN o.last_error ELSE COALESCE(x.error, '') END
FROM json_to_recordset($3::json) AS x(id bigint, attempts integer, delivered boolean, released boolean, retry_us bigint, error text),
     (SELECT COALESCE($1::timestamptz, now()) AS now) c
WHERE o.id = x.id AND o.claimed_by = $2 AND o.attempts = x.attempts AND o.delivered_at IS NULL
