package main

import (
	"context"
	"errors"
	"fmt"
	"log"
	"net"
	"net/netip"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"layeh.com/radius"

	"github.com/kabinet-billing/kabinet/bench/internal/serve"
	kradius "github.com/kabinet-billing/kabinet/internal/radius"
	"github.com/kabinet-billing/kabinet/internal/store"
)

// The RADIUS half of the pair scenario: a NAS at 127.0.0.1 with both
// instances as its accounting servers sends Start, Interim-Updates and Stop
// for many sessions, each packet to one instance in turn; a share of them
// goes to both at once (a NAS that timed out on one server and repeated to
// the other while the first was still writing), and a packet not answered
// is repeated to the other instance. One instance is killed halfway and
// restarted. Afterwards every session is in the table once with the
// counters of its Stop, and usage per account is the sum of the sessions'
// traffic: nothing lost, nothing counted twice.

const nasSecret = "crash-nas-secret"

// Attribute numbers (RFC 2865, 2866, 2869).
const (
	aUserName     = 1
	aStatusType   = 40
	aInOctets     = 42
	aOutOctets    = 43
	aSessionID    = 44
	aSessionTime  = 46
	aTermCause    = 49
	aInGigawords  = 52
	aOutGigawords = 53
	aNASIdent     = 32
)

// freeUDPAddr returns a loopback UDP address nobody listens on now.
func freeUDPAddr() (string, error) {
	c, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer c.Close()
	return c.LocalAddr().String(), nil
}

// addNAS records 127.0.0.1 as a NAS, as an operator would.
func addNAS(ctx context.Context, dsn string) error {
	db, err := store.Open(ctx, dsn)
	if err != nil {
		return err
	}
	defer db.Close()
	_, err = kradius.NewNASStore(db, nil).Save(ctx, kradius.NAS{Name: "crash-nas", Addr: netip.MustParseAddr("127.0.0.1"),
		Secret: nasSecret, Kind: kradius.KindMikrotik})
	return err
}

// acctSession is one subscriber session as the NAS knows it.
type acctSession struct {
	key, login string
	in, out    uint64 // counters of the last acknowledged Interim or Stop
	stopped    bool   // the Stop was acknowledged
}

type acctStats struct {
	packets, sends, both, failovers, lost atomic.Int64
	acked                                 atomic.Int64
	bothAnswered                          atomic.Int64
}

func acctPacket(s *acctSession, status uint32, in, out uint64, secs uint32) *radius.Packet {
	p := radius.New(radius.CodeAccountingRequest, []byte(nasSecret))
	p.Add(aStatusType, radius.NewInteger(status))
	p.Add(aSessionID, radius.Attribute(s.key))
	p.Add(aUserName, radius.Attribute(s.login))
	p.Add(aNASIdent, radius.Attribute("crash-nas"))
	p.Add(aSessionTime, radius.NewInteger(secs))
	p.Add(aInOctets, radius.NewInteger(uint32(in)))
	p.Add(aOutOctets, radius.NewInteger(uint32(out)))
	p.Add(aInGigawords, radius.NewInteger(uint32(in>>32)))
	p.Add(aOutGigawords, radius.NewInteger(uint32(out>>32)))
	if status == 2 {
		p.Add(aTermCause, radius.NewInteger(1))
	}
	return p
}

// exchange sends p to addr once and waits up to timeout for the answer.
func exchange(ctx context.Context, p *radius.Packet, addr string, timeout time.Duration) bool {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	c := radius.Client{Retry: 0}
	resp, err := c.Exchange(ctx, p, addr)
	return err == nil && resp.Code == radius.CodeAccountingResponse
}

// deliver sends one accounting packet the way a NAS with two servers does:
// to first (and, when both, at the same moment to the other), then, while
// unanswered, to the other and back. It reports whether it was answered.
func deliver(ctx context.Context, st *acctStats, addrs []string, first int, both bool, p *radius.Packet) bool {
	st.packets.Add(1)
	const timeout = 1500 * time.Millisecond
	if both {
		st.both.Add(1)
		st.sends.Add(2)
		var ok [2]bool
		var wg sync.WaitGroup
		for j := range 2 {
			wg.Go(func() { ok[j] = exchange(ctx, p, addrs[j], timeout) })
		}
		wg.Wait()
		if ok[0] && ok[1] {
			st.bothAnswered.Add(1)
		}
		if ok[0] || ok[1] {
			return true
		}
	}
	for attempt := 0; attempt < 40; attempt++ {
		target := (first + attempt) % 2
		if both {
			target = (first + attempt + 1) % 2
		}
		if attempt > 0 || both {
			st.failovers.Add(1)
		}
		st.sends.Add(1)
		if exchange(ctx, p, addrs[target], timeout) {
			return true
		}
	}
	st.lost.Add(1)
	return false
}

// radiusPair drives the accounting through both instances; kill is called
// once, when half of the packets have been answered, and must kill one
// instance and start it again.
func radiusPair(ctx context.Context, addrs []string, nSessions, interims, workers int, kill func() error) ([]*acctSession, *acctStats, error) {
	sessions := make([]*acctSession, nSessions)
	for i := range sessions {
		sessions[i] = &acctSession{key: fmt.Sprintf("%08x", 0x81a00000+i), login: "u" + strconv.Itoa(1+i%*payAccounts)}
	}
	total := int64(nSessions * (interims + 2))
	st := &acctStats{}
	var killErr error
	killed := make(chan struct{})
	go func() {
		defer close(killed)
		for st.acked.Load() < total/2 {
			time.Sleep(5 * time.Millisecond)
		}
		killErr = kill()
	}()
	// Per-session randomness is drawn up front: rnd is not safe for
	// concurrent use, and the seed then replays the same traffic.
	type step struct {
		status  uint32
		in, out uint64
		secs    uint32
		first   int
		both    bool
		pauseMS int
	}
	plans := make([][]step, nSessions)
	for i := range plans {
		var in, out uint64
		first := rnd.IntN(2)
		for k := 0; k < interims+2; k++ {
			status := uint32(3)
			switch k {
			case 0:
				status = 1
			case interims + 1:
				status = 2
			}
			if k > 0 {
				// Up to 3 GB a step, so the totals need Gigawords.
				in += uint64(rnd.Int64N(3 << 30))
				out += uint64(rnd.Int64N(3 << 30))
			}
			plans[i] = append(plans[i], step{status: status, in: in, out: out, secs: uint32(300 * k),
				first: (first + k) % 2, both: rnd.IntN(3) == 0, pauseMS: 10 + rnd.IntN(50)})
		}
	}
	work := make(chan int)
	var wg sync.WaitGroup
	var failed atomic.Bool
	for range workers {
		wg.Go(func() {
			for i := range work {
				s := sessions[i]
				for _, stp := range plans[i] {
					time.Sleep(time.Duration(stp.pauseMS) * time.Millisecond)
					if !deliver(ctx, st, addrs, stp.first, stp.both, acctPacket(s, stp.status, stp.in, stp.out, stp.secs)) {
						failed.Store(true)
						break // the NAS gave up on this session
					}
					st.acked.Add(1)
					if stp.status != 1 {
						s.in, s.out = stp.in, stp.out
					}
					if stp.status == 2 {
						s.stopped = true
					}
				}
			}
		})
	}
	for i := range nSessions {
		work <- i
	}
	close(work)
	wg.Wait()
	if failed.Load() {
		// The kill goroutine may still wait for a half never reached.
		return sessions, st, fmt.Errorf("%d accounting packets never answered by either instance", st.lost.Load())
	}
	<-killed
	return sessions, st, killErr
}

// checkAccounting compares the tables with what the NAS was told.
func checkAccounting(ctx context.Context, dsn string, sessions []*acctSession) (string, error) {
	db, err := store.Open(ctx, dsn)
	if err != nil {
		return "", err
	}
	defer db.Close()
	type row struct {
		n       int
		open    int
		in, out int64
	}
	got := map[string]*row{}
	rows, err := db.Query(ctx, `SELECT session_key, stopped_at IS NULL, input_octets, output_octets FROM sessions`)
	if err != nil {
		return "", err
	}
	nRows := 0
	for rows.Next() {
		var key string
		var open bool
		var in, out int64
		if err := rows.Scan(&key, &open, &in, &out); err != nil {
			rows.Close()
			return "", err
		}
		nRows++
		r := got[key]
		if r == nil {
			r = &row{}
			got[key] = r
		}
		r.n++
		if open {
			r.open++
		}
		r.in, r.out = in, out
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return "", err
	}
	want := map[string][2]int64{} // by login
	var errs []error
	for _, s := range sessions {
		w := want[s.login]
		w[0] += int64(s.in)
		w[1] += int64(s.out)
		want[s.login] = w
		r := got[s.key]
		switch {
		case !s.stopped:
			errs = append(errs, fmt.Errorf("session %s: Stop never acknowledged", s.key))
		case r == nil:
			errs = append(errs, fmt.Errorf("session %s: acknowledged Stop, no row", s.key))
		case r.n != 1:
			errs = append(errs, fmt.Errorf("session %s: %d rows (%d open)", s.key, r.n, r.open))
		case r.open != 0:
			errs = append(errs, fmt.Errorf("session %s: acknowledged Stop, still open", s.key))
		case r.in != int64(s.in) || r.out != int64(s.out):
			errs = append(errs, fmt.Errorf("session %s: counters %d/%d, last acknowledged %d/%d", s.key, r.in, r.out, s.in, s.out))
		}
	}
	if nRows != len(sessions) {
		errs = append(errs, fmt.Errorf("%d session rows for %d sessions", nRows, len(sessions)))
	}
	urows, err := db.Query(ctx, `SELECT a.login, SUM(u.input_octets), SUM(u.output_octets), COUNT(*) FROM usage_daily u JOIN accounts a ON a.id = u.account_id GROUP BY a.login`)
	if err != nil {
		return "", err
	}
	usage := map[string][2]int64{}
	var days, total int64
	for urows.Next() {
		var login string
		var in, out, n int64
		if err := urows.Scan(&login, &in, &out, &n); err != nil {
			urows.Close()
			return "", err
		}
		usage[login] = [2]int64{in, out}
		days += n
		total += in + out
	}
	urows.Close()
	if err := urows.Err(); err != nil {
		return "", err
	}
	doubled, short := 0, 0
	var wantTotal int64
	for login, w := range want {
		wantTotal += w[0] + w[1]
		u := usage[login]
		switch {
		case u[0] > w[0] || u[1] > w[1]:
			doubled++
			if doubled <= 5 {
				errs = append(errs, fmt.Errorf("usage of %s: %d/%d bytes, its sessions' deltas sum to %d/%d", login, u[0], u[1], w[0], w[1]))
			}
		case u != w:
			short++
			if short <= 5 {
				errs = append(errs, fmt.Errorf("usage of %s: %d/%d bytes, its sessions' deltas sum to %d/%d", login, u[0], u[1], w[0], w[1]))
			}
		}
		delete(usage, login)
	}
	if len(usage) > 0 {
		errs = append(errs, fmt.Errorf("usage for %d accounts that had no session", len(usage)))
	}
	if doubled+short > 0 {
		errs = append(errs, fmt.Errorf("usage of %d accounts too high, %d too low", doubled, short))
	}
	summary := fmt.Sprintf("%d session rows, %d usage_daily rows, %.1f TB in usage_daily (sessions' deltas: %.1f TB)",
		nRows, days, float64(total)/1e12, float64(wantTotal)/1e12)
	if len(errs) > 10 {
		errs = append(errs[:10], fmt.Errorf("… and %d more", len(errs)-10))
	}
	return summary, errors.Join(errs...)
}

// radiusPhase runs the accounting half of the pair scenario and checks it.
func radiusPhase(ctx context.Context, dsn string, acct []string, servers []*serve.Server, cfgs, addrs []string, logf *os.File, nSessions int) error {
	t0 := time.Now()
	var killAt, backAt int64
	sessions, st, err := radiusPair(ctx, acct, nSessions, 4, 16, func() error {
		killAt = time.Since(t0).Milliseconds()
		servers[1].Kill()
		// The NAS finds it dead for a moment and fails over.
		time.Sleep(2 * time.Second)
		s, err := serve.Start(*bin, cfgs[1], addrs[1], logf)
		if err != nil {
			return err
		}
		servers[1] = s
		backAt = time.Since(t0).Milliseconds()
		return nil
	})
	elapsed := time.Since(t0)
	log.Printf("pair radius: %d sessions (Start, 4 Interim-Updates, Stop), %d packets in %d sends over %.1fs; %d sent to both at once (%d answered by both), %d repeats to the other instance; instance 1 killed at %.1fs, back at %.1fs",
		len(sessions), st.packets.Load(), st.sends.Load(), elapsed.Seconds(), st.both.Load(), st.bothAnswered.Load(), st.failovers.Load(),
		float64(killAt)/1000, float64(backAt)/1000)
	if err != nil {
		return err
	}
	// Each instance answers once a record is in its accounting journal and
	// writes the journal to the database behind (the one killed, after its
	// restart): the database must agree within seconds.
	var summary string
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(500 * time.Millisecond) {
		summary, err = checkAccounting(ctx, dsn, sessions)
		if err == nil || time.Now().After(deadline) {
			break
		}
	}
	log.Printf("pair radius: %s (%.1fs after the last answer)", summary, time.Since(t0.Add(elapsed)).Seconds())
	if err != nil {
		return err
	}
	log.Printf("pair radius: every acknowledged Stop in sessions once with the counters it carried; usage per account equals its sessions' traffic")
	return nil
}
