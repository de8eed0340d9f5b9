package store_test

import (
	"context"
	"testing"

	"github.com/kabinet-billing/kabinet/internal/store/storetest"
)

func TestSetWriterCache(t *testing.T) {
	ctx := context.Background()
	db := storetest.SQLite(t)
	if err := db.SetWriterCache(ctx, 8192); err != nil {
		t.Fatal(err)
	}
	var kb int
	if err := db.Writer().QueryRowContext(ctx, "PRAGMA cache_size").Scan(&kb); err != nil {
		t.Fatal(err)
	}
	if kb != -8192 {
		t.Errorf("writer cache_size %d, want -8192", kb)
	}
}
