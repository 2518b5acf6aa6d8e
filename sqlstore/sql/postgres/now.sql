-- Now: the database clock.
SELECT now()
