package importer

import (
	"context"
	"errors"
	"testing"
)

// TestPrefetch: every row in order; a failing use stops the reader; a
// failing read comes back after the rows read before it were used.
func TestPrefetch(t *testing.T) {
	errRead, errUse := errors.New("read failed"), errors.New("use failed")
	for _, tc := range []struct {
		name           string
		rows, failRead int // failRead: the read fails after that many rows (0: never)
		failUse        int // the use fails at that row (0: never)
		wantUsed       int
		wantErr        error
	}{
		{"empty", 0, 0, 0, 0, nil},
		{"less than a batch", 10, 0, 0, 10, nil},
		{"many batches", 10*prefetchBatch + 7, 0, 0, 10*prefetchBatch + 7, nil},
		{"read fails", 5 * prefetchBatch, 3*prefetchBatch + 5, 0, 3*prefetchBatch + 5, errRead},
		{"use fails", 100 * prefetchBatch, 0, 300, 299, errUse},
	} {
		t.Run(tc.name, func(t *testing.T) {
			read := 0
			reader := func(ctx context.Context, fn func(int) error) error {
				for i := range tc.rows {
					if tc.failRead > 0 && i == tc.failRead {
						return errRead
					}
					if err := fn(i); err != nil {
						return err
					}
					read++
				}
				return nil
			}
			var used []int
			err := prefetch(context.Background(), reader, func(v int) error {
				if tc.failUse > 0 && len(used)+1 == tc.failUse {
					return errUse
				}
				used = append(used, v)
				return nil
			})
			if !errors.Is(err, tc.wantErr) || len(used) != tc.wantUsed {
				t.Fatalf("err %v, used %d; want %v, %d", err, len(used), tc.wantErr, tc.wantUsed)
			}
			for i, v := range used {
				if v != i {
					t.Fatalf("row %d is %d: out of order", i, v)
				}
			}
			if tc.failUse > 0 && read >= tc.rows {
				t.Errorf("the reader read all %d rows after the use failed", read)
			}
		})
	}
}
