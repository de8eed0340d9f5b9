package payment

import "sync"

// groupCommit commits concurrent payments together ("group commit"): each
// commit is a disk flush, and on SQLite's single writer the flush, not the
// work, is what limits payments per second. A job joins the next batch
// while the current one commits; nobody waits for a timer. Bank payments
// (payBatch) and card callbacks (cardBatch) go through it.
type groupCommit[J any] struct {
	mu      sync.Mutex
	pending []J
	running bool
}

// maxBatch bounds a batch so that one transaction stays short.
const maxBatch = 256

// add queues j and, unless a drain is under way, starts one that hands
// commit the pending jobs, at most maxBatch at a time, until none are left.
// commit answers each job of its batch; the caller waits for its own.
func (g *groupCommit[J]) add(j J, commit func([]J)) {
	g.mu.Lock()
	g.pending = append(g.pending, j)
	if !g.running {
		g.running = true
		go g.drain(commit)
	}
	g.mu.Unlock()
}

func (g *groupCommit[J]) drain(commit func([]J)) {
	for {
		g.mu.Lock()
		if len(g.pending) == 0 {
			g.running = false
			g.mu.Unlock()
			return
		}
		n := min(len(g.pending), maxBatch)
		batch := g.pending[:n:n]
		g.pending = g.pending[n:]
		g.mu.Unlock()
		commit(batch)
	}
}
