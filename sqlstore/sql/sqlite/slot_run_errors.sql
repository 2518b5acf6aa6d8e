-- SlotRuns, second part: the error text of the given runs (those of an
-- audited window that did not succeed), by primary key; runs without one
-- are left out. $1 run ids (a JSON array).
SELECT id, error FROM tickflow_runs WHERE id IN (SELECT value FROM json_each($1)) AND error <> ''
