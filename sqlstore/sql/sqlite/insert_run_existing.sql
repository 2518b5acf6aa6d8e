-- InsertRun: the run that holds an idempotency key. $1 key.
SELECT * FROM tickflow_runs WHERE idempotency_key = $1
