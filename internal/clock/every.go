package clock

import (
	"context"
	"time"
)

// Every calls f every interval until ctx ends, and returns only once the
// call under way has returned, so that shutdown can wait for it (run Every
// in a sync.WaitGroup's Go). f gets ctx without its cancellation: a run
// that has begun is finished rather than cut short; whoever waits bounds
// how long. The first call comes after one interval.
func Every(ctx context.Context, every time.Duration, f func(context.Context)) {
	EveryOr(ctx, every, nil, f)
}

// EveryOr is Every that also calls f whenever wake receives (a nil wake
// never does).
func EveryOr(ctx context.Context, every time.Duration, wake <-chan struct{}, f func(context.Context)) {
	t := time.NewTicker(every)
	defer t.Stop()
	work := context.WithoutCancel(ctx)
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-wake:
		}
		// A tick and ctx's end may be ready together: select picks at
		// random, and no new work starts once ctx has ended.
		if ctx.Err() != nil {
			return
		}
		f(work)
	}
}
