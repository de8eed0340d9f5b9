package main

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"time"

	"github.com/kabinet-billing/kabinet/internal/billing"
	"github.com/kabinet-billing/kabinet/internal/clock"
	"github.com/kabinet-billing/kabinet/internal/netflow"
	"github.com/kabinet-billing/kabinet/internal/radius"
	"github.com/kabinet-billing/kabinet/internal/traffic"
)

// demoTrafficOthers bounds how many subscribers besides the printed ones
// get half a year of sessions: enough for the back office's lists to look
// lived in, few enough that the demo still starts in seconds.
const demoTrafficOthers = 200

// demoInterim is the interim-update interval of the seeded sessions. Real
// NAS report every few minutes; for history, four reports a day give the
// daily charts their shape at a fraction of the records.
const demoInterim = 6 * time.Hour

// demoLine is a subscriber whose connection the demo plays.
type demoLine struct {
	id    int64
	login string
	since time.Time // signed
}

// The remote ends of the seeded flows, one per class: documentation
// addresses (RFC 5737), so that no real host is named, apart from
// 198.51.100.0/24, billing's default static-IP pool. The provider's own
// network carries IPTV and the speed test; the city exchange, local sites.
var demoClasses = []struct {
	class  netflow.Class
	remote netip.Addr
}{
	{netflow.Class{Code: "local", Name: "Сеть провайдера", NameEn: "Provider's network", Prefixes: []netip.Prefix{netip.MustParsePrefix("192.0.2.0/24")}, Position: 10}, netip.MustParseAddr("192.0.2.10")},
	{netflow.Class{Code: "city", Name: "Городской обмен", NameEn: "City exchange", Prefixes: []netip.Prefix{netip.MustParsePrefix("203.0.113.0/25")}, Position: 20}, netip.MustParseAddr("203.0.113.80")},
	{netflow.Class{Code: netflow.DefaultClass}, netip.MustParseAddr("203.0.113.200")},
}

// demoHourly is the share of a day's traffic in each hour: quiet nights,
// a working-day plateau and the evening peak.
var demoHourly = func() [24]float64 {
	w := [24]float64{1, 0.6, 0.4, 0.3, 0.3, 0.4, 0.8, 1.5, 2, 2, 2.2, 2.4, 2.6, 2.6, 2.6, 2.8, 3, 3.5, 4.5, 5.5, 6, 6, 5, 3}
	var sum float64
	for _, v := range w {
		sum += v
	}
	for i := range w {
		w[i] /= sum
	}
	return w
}()

// demoInterval is what one accounting report added: flows for it are made
// once the sessions are written and the resolver can see them.
type demoInterval struct {
	acct     int64
	at       time.Time
	addr     netip.Addr
	down, up uint64
	shares   []float64 // of demoClasses
}

// seedDemoTraffic plays the lines' connections from their signing to now:
// sessions through RADIUS accounting (Start, Interim, Stop, as the
// accounting server writes them) and their bytes by class through the
// NetFlow aggregator, so the traffic, sessions and "where" pages and the
// back office's sessions have history. The two agree: a day's bytes by
// class add up to the day's accounting.
func seedDemoTraffic(ctx context.Context, e *env, b *billing.Biller, nas radius.NAS, lines []demoLine, from, now time.Time) error {
	zone := e.cfg.Zone()
	now = now.Truncate(time.Second) // NAS report whole seconds
	for _, c := range demoClasses {
		if c.class.Code == netflow.DefaultClass {
			continue
		}
		if err := netflow.SaveClass(ctx, e.db, c.class); err != nil {
			return err
		}
	}
	tr := traffic.New(e.db, zone)
	sink := radius.TrafficSink{T: tr}
	var batch []radius.AcctRecord
	write := func() error {
		if err := sink.WriteAccounting(ctx, batch); err != nil {
			return fmt.Errorf("demo accounting: %w", err)
		}
		batch = batch[:0]
		return nil
	}
	var intervals []demoInterval
	seq := 0
	for i, l := range lines {
		s, err := b.Summary(ctx, l.id)
		if err != nil {
			return err
		}
		r := rand.New(rand.NewPCG(uint64(l.id), 2055))
		// A household's appetite grows with its tariff's speed.
		perDay := float64(1.5e9) * (1 + float64(s.Tariff.DownKbps)/200000) * (0.3 + 1.7*r.Float64())
		tv, static := false, netip.Addr{}
		for _, p := range s.Packages {
			tv = tv || p.Package.Kind == billing.PackageTV
			if a, err := netip.ParseAddr(p.StaticIP); err == nil {
				static = a
			}
		}
		shares := make([]float64, len(demoClasses))
		shares[0] = 0.02 + 0.05*r.Float64() // speed tests, updates from the provider's mirror
		if tv {
			shares[0] += 0.25 + 0.15*r.Float64() // IPTV
		}
		shares[1] = 0.05 + 0.1*r.Float64()
		shares[2] = 1 - shares[0] - shares[1]
		mac := fmt.Sprintf("E4:8D:8C:%02X:%02X:%02X", r.IntN(256), r.IntN(256), r.IntN(256))
		port := fmt.Sprintf("vlan%d", 100+i%24)
		limited := s.LimitedSince // the limit disconnects; the router reconnects into the walled garden

		t := l.since.Truncate(time.Second).Add(time.Duration(5+r.IntN(120)) * time.Minute) // the technician leaves, the router dials
		for n := 0; t.Before(now); n++ {
			end := t.Add(8*time.Hour + time.Duration(r.Int64N(int64(6*24*time.Hour))))
			cause := []uint32{1, 2, 2, 2, 4, 7}[r.IntN(6)] // user-request, lost-carrier, idle-timeout, admin-reboot
			if !limited.IsZero() && t.Before(limited) && end.After(limited) {
				end, cause = limited, 6 // admin-reset: cut off for debt
			}
			last := !end.Before(now)
			if last {
				// The last session ended a little while ago: no NAS keeps
				// it open, and a session left open would soon be closed as
				// stale by the running demo's RADIUS service.
				end = now.Add(-time.Duration(1+r.IntN(50)) * time.Minute)
				if !end.After(t) {
					break
				}
			}
			seq++
			// Each session gets one of a few addresses kept for this line,
			// as a pool hands out: never two lines' sessions one address.
			addr := netip.AddrFrom4([4]byte{100, byte(64 + n%4), byte(i / 250), byte(2 + i%250)})
			if static.IsValid() {
				addr = static
			}
			rec := radius.AcctRecord{Status: radius.AcctStart, NASID: nas.ID, NASAddr: nas.Addr, NASIdent: nas.Name,
				SessionID: fmt.Sprintf("%08x", 0x81000000+seq), Login: l.login, NASPort: uint32(seq), NASPortID: port,
				FramedIP: addr, CallingStationID: mac, Time: t}
			batch = append(batch, rec)
			var down, up uint64
			for at := t; at.Before(end); {
				next := at.Add(demoInterim)
				if next.After(end) {
					next = end
				}
				d := demoBytes(r, perDay, at, next, zone)
				if !limited.IsZero() && !at.Before(limited) {
					d = uint64(r.Int64N(2 << 20)) // 128 kbit/s into the walled garden: the payment page and little else
				}
				u := uint64(float64(d) * (0.08 + 0.12*r.Float64()))
				down, up = down+d, up+u
				rec.Status, rec.Time, rec.SessionTime = radius.AcctInterim, next, next.Sub(t).Truncate(time.Second)
				rec.InputOctets, rec.OutputOctets = up, down
				if !next.Before(end) {
					rec.Status, rec.TerminateCause = radius.AcctStop, cause
				}
				batch = append(batch, rec)
				intervals = append(intervals, demoInterval{acct: l.id, at: next, addr: addr, down: d, up: u, shares: shares})
				at = next
			}
			if len(batch) >= 4000 {
				if err := write(); err != nil {
					return err
				}
			}
			// The router redials within minutes; now and then the family is
			// away for a few days with it switched off.
			gap := time.Duration(1+r.IntN(15)) * time.Minute
			if r.IntN(25) == 0 {
				gap = time.Duration(24+r.IntN(72)) * time.Hour
			}
			t = end.Add(gap)
			if last {
				break
			}
		}
	}
	if err := write(); err != nil {
		return err
	}

	// The flows of those sessions, attributed as the collector attributes
	// them: by who held the address at the time, and by the class of the
	// far end.
	clk := clock.NewFake(from.Add(-time.Hour))
	res := netflow.NewSessionResolver(tr, clk)
	if err := res.Refresh(ctx); err != nil {
		return err
	}
	agg := netflow.NewAggregator(e.db, res, nil, zone)
	if err := agg.ReloadClasses(ctx); err != nil {
		return err
	}
	fs := make([]netflow.Flow, 0, 2*len(demoClasses))
	for _, iv := range intervals {
		fs = fs[:0]
		var downLeft, upLeft = iv.down, iv.up
		for k, c := range demoClasses {
			d, u := downLeft, upLeft // the last class takes the rest: the sums stay exact
			if k < len(demoClasses)-1 {
				d, u = uint64(float64(iv.down)*iv.shares[k]), uint64(float64(iv.up)*iv.shares[k])
			}
			downLeft, upLeft = downLeft-d, upLeft-u
			if d > 0 {
				fs = append(fs, netflow.Flow{Src: c.remote, Dst: iv.addr, Bytes: d, Packets: d/1400 + 1, At: iv.at})
			}
			if u > 0 {
				fs = append(fs, netflow.Flow{Src: iv.addr, Dst: c.remote, Bytes: u, Packets: u/600 + 1, At: iv.at})
			}
		}
		agg.Add(fs)
	}
	if st := agg.Stats(); st.Unattributed > 0 {
		return fmt.Errorf("demo flows: %d of %d not attributed to a session", st.Unattributed, st.Flows)
	}
	_, err := agg.Flush(ctx)
	return err
}

// demoBytes is what a household with perDay bytes a day downloads in
// [from, to): the hour's share of the day, more at weekends, never the same
// twice.
func demoBytes(r *rand.Rand, perDay float64, from, to time.Time, zone *time.Location) uint64 {
	var sum float64
	for t := from; t.Before(to); {
		lt := t.In(zone)
		next := lt.Truncate(time.Hour).Add(time.Hour)
		if next.After(to) {
			next = to
		}
		w := demoHourly[lt.Hour()] * next.Sub(t).Hours()
		if wd := lt.Weekday(); wd == time.Saturday || wd == time.Sunday {
			w *= 1.3
		}
		sum += w
		t = next
	}
	return uint64(perDay * sum * (0.5 + r.Float64()))
}
