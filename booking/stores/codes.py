"""The databases' error codes booking tells apart: retry the transaction, or the environment failed."""

# Errors that mean "run the whole transaction again": serialization failure and deadlock (PostgreSQL),
# deadlock and lock wait timeout (MariaDB), a WAL snapshot overtaken by another writer (SQLite).
PG_RETRY_SQLSTATES = frozenset({"40001", "40P01"})
MYSQL_RETRY_ERRNOS = frozenset({1213, 1205})
SQLITE_BUSY = 5
SQLITE_BUSY_SNAPSHOT = 517
# Failures of the environment, not of the strategy: the run could not be carried out (Database.unavailable).
PG_UNAVAILABLE_CLASSES = frozenset({"08", "53", "57", "58"})  # connection, resources, operator, system
# too many connections, user limits, server gone or lost, statement time limits (MariaDB, MySQL)
MYSQL_UNAVAILABLE_ERRNOS = frozenset({1040, 1203, 1226, 2002, 2003, 2006, 2013, 2055, 1969, 3024})
SQLITE_UNAVAILABLE = frozenset({7, 8, 10, 13, 14})  # NOMEM, READONLY, IOERR, FULL, CANTOPEN
