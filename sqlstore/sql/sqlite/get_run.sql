-- GetRun. $1 id.
SELECT * FROM tickflow_runs WHERE id = $1
