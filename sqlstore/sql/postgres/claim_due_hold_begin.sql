-- HoldDue: settings of the held claim's transaction, for the transaction
-- only (set_config's is_local, as SET LOCAL): no JIT compilation (see
-- claim_due_jit_off.sql), and $1 idle_in_transaction_session_timeout in
-- milliseconds, the time to the claim's lease. A held claim is idle in its
-- transaction while its runs execute; a process that stops holding it
-- (frozen, cut off without its connection closing) loses the session
-- when its lease would have passed, and its schedules become claimable
-- again, as a leased run is presumed dead then.
-- And no sequential scan where an index serves: every statement of a
-- held claim reads by key (the due index, the live index per schedule, the
-- slot key per run, the state's key per advance). Planned while the runs
-- table looked empty (just created, or truncated between benchmark runs)
-- the overlap probe became a sequential scan per schedule; with the tick's
-- first claim inserting its runs meanwhile, each scan read them all: 50 µs
-- per schedule, 300 ms for the second claim of 5,000.
SELECT set_config('jit', 'off', true), set_config('idle_in_transaction_session_timeout', $1, true),
       set_config('enable_seqscan', 'off', true)
