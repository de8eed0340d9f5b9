package store

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"strings"
	"syscall"
)

// Unavailable tells whether err means the database cannot be reached or
// used right now (closed pool, refused or dropped connection, a SQLite file
// locked past the busy timeout or failing I/O), as opposed to a query that
// is wrong. Pages answer it with 503 and "try again", not 500.
func Unavailable(err error) bool {
	if err == nil {
		return false
	}
	if errors.Is(err, sql.ErrConnDone) || errors.Is(err, driver.ErrBadConn) || errors.Is(err, context.DeadlineExceeded) ||
		errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ECONNRESET) {
		return true
	}
	msg := err.Error()
	for _, s := range []string{
		"sql: database is closed", "sql: statement is closed", // a cached statement of a closed database
		"database is locked", "SQLITE_BUSY", "unable to open database file", "disk I/O error",
		"failed to connect to", "the database system is shutting down", "the database system is starting up",
		"terminating connection due to administrator command", "conn closed",
	} {
		if strings.Contains(msg, s) {
			return true
		}
	}
	return false
}
