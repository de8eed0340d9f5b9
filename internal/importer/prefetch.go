package importer

import "context"

// prefetchBatch is how many rows the reader hands over at a time, and
// prefetchDepth how many such batches may wait: a few thousand rows.
const (
	prefetchBatch = 256
	prefetchDepth = 16
)

// prefetch runs read on a goroutine of its own and hands what it reads to
// use on the caller's, in order: the source's server sends the next rows
// while Kabinet's database writes the last ones, instead of the two taking
// turns. An error from use stops the reading; an error from read comes
// back after use has had every row read before it.
func prefetch[T any](ctx context.Context, read func(context.Context, func(T) error) error, use func(T) error) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	ch := make(chan []T, prefetchDepth)
	errc := make(chan error, 1)
	go func() {
		defer close(ch)
		send := func(b []T) error {
			select {
			case ch <- b:
				return nil
			case <-ctx.Done():
				return ctx.Err()
			}
		}
		buf := make([]T, 0, prefetchBatch)
		err := read(ctx, func(v T) error {
			buf = append(buf, v)
			if len(buf) < prefetchBatch {
				return nil
			}
			b := buf
			buf = make([]T, 0, prefetchBatch)
			return send(b)
		})
		if len(buf) > 0 {
			if serr := send(buf); err == nil {
				err = serr
			}
		}
		errc <- err
	}()
	for b := range ch {
		for _, v := range b {
			if err := use(v); err != nil {
				cancel()
				for range ch { // the reader stops at its next row
				}
				<-errc
				return err
			}
		}
	}
	return <-errc
}
