package clock

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// Every runs f on each tick and on each wake, starts nothing once ctx has
// ended, and returns only after the run under way has finished, which sees
// a context that was not cancelled under it.
func TestEvery(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	wake := make(chan struct{})
	var runs atomic.Int32
	started, release := make(chan struct{}), make(chan struct{})
	var finished atomic.Bool
	var wg sync.WaitGroup
	wg.Go(func() {
		EveryOr(ctx, time.Hour, wake, func(work context.Context) {
			if runs.Add(1) == 2 {
				close(started)
				<-release
				if work.Err() != nil {
					t.Error("the run under way saw its context cancelled")
				}
				finished.Store(true)
			}
		})
	})
	wake <- struct{}{} // run 1
	wake <- struct{}{} // run 2, held
	<-started
	cancel()
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
		t.Fatal("returned while a run was under way")
	case <-time.After(50 * time.Millisecond):
	}
	close(release)
	<-done
	if !finished.Load() || runs.Load() != 2 {
		t.Errorf("finished %v after %d runs", finished.Load(), runs.Load())
	}
	// Ticks call it too, and an ended context starts nothing.
	ctx, cancel = context.WithCancel(context.Background())
	var ticks atomic.Int32
	go Every(ctx, time.Millisecond, func(context.Context) {
		if ticks.Add(1) == 3 {
			cancel()
		}
	})
	<-ctx.Done()
	time.Sleep(20 * time.Millisecond)
	if n := ticks.Load(); n != 3 {
		t.Errorf("%d ticks ran; 3, then none after the end", n)
	}
}
