package store

// WriterStatements is the number of statements prepared on the SQLite
// writer, for tests.
func (db *DB) WriterStatements() int64 { return db.nWStmts.Load() }
