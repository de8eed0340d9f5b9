package store

import "testing"

func TestRebind(t *testing.T) {
	tests := []struct {
		d       Dialect
		in, out string
	}{
		{Postgres, "SELECT ? , '?' , ?", "SELECT $1 , '?' , $2"},
		{SQLite, "SELECT ? , '?' , ?", "SELECT ? , '?' , ?"},
		{Postgres, "SELECT ?::bigint, ?::timestamptz", "SELECT $1::bigint, $2::timestamptz"},
		{SQLite, "SELECT ?::bigint, ?::timestamptz, x", "SELECT ?, ?, x"},
		{SQLite, "SELECT 1", "SELECT 1"},
	}
	for _, tt := range tests {
		if got := rebind(tt.d, tt.in); got != tt.out {
			t.Errorf("rebind(%s, %q) = %q, want %q", tt.d, tt.in, got, tt.out)
		}
	}
}
