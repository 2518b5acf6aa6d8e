-- ListTicks: the most recent ticks first. $1 limit.
SELECT * FROM tickflow_ticks ORDER BY started_at DESC, id DESC LIMIT $1
