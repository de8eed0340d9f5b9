package store

import (
	"math/bits"
	"sync/atomic"
)

// The operations below are where the capabilities' SQL differs between
// SQLite and PostgreSQL; outside this package no code asks which it is.

// Shared tells whether other kabinet instances may use the database at the
// same time: a PostgreSQL database may be shared by several; a SQLite file
// is one instance's.
func (db *DB) Shared() bool { return db.Dialect == Postgres }

// ForUpdate is the clause that locks the rows a read returns until the
// transaction ends: " FOR UPDATE" on PostgreSQL, where instances sharing
// the database write at once; "" on SQLite, whose one writer runs write
// transactions one at a time and needs no row locks.
func (t *Tx) ForUpdate() string {
	if t.db.Dialect == Postgres {
		return " FOR UPDATE"
	}
	return ""
}

// orFail is " OR FAIL" on SQLite: a multi-row write that may fail halfway
// otherwise copies every page it changes into a statement journal (a
// temporary file past 64 KiB) to undo only itself, while the whole
// transaction is rolled back on any error anyway. PostgreSQL has no such
// clause.
func orFail(d Dialect) string {
	if d == SQLite {
		return " OR FAIL"
	}
	return ""
}

// Sized is a statement whose text depends on its number of rows, a power
// of two up to 1024, and on the database; each text is built once. Build
// gets the clause to write after UPDATE or INSERT of a multi-row write
// (" OR FAIL" on SQLite, see orFail; "" on PostgreSQL).
type Sized struct {
	Build func(orFail string, rows int) string
	texts [2][10 + 1]atomic.Pointer[string] // SQLite, PostgreSQL × 1 … 2¹⁰ rows
}

// Text is the statement for rows rows on tx's database.
func (q *Sized) Text(tx *Tx, rows int) string {
	d, j := tx.db.Dialect, 0
	if d == Postgres {
		j = 1
	}
	i := bits.TrailingZeros(uint(rows))
	if t := q.texts[j][i].Load(); t != nil {
		return *t
	}
	t := q.Build(orFail(d), rows)
	q.texts[j][i].Store(&t)
	return t
}
