package netflow

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"github.com/netsampler/goflow2/v2/decoders/netflow"
	"github.com/netsampler/goflow2/v2/decoders/netflowlegacy"
)

// Field types shared by NetFlow v9 (RFC 3954) and IPFIX (RFC 7011/IANA).
const (
	fieldInBytes   = 1  // IN_BYTES / octetDeltaCount
	fieldInPkts    = 2  // IN_PKTS / packetDeltaCount
	fieldSrc4      = 8  // IPV4_SRC_ADDR / sourceIPv4Address
	fieldDst4      = 12 // IPV4_DST_ADDR / destinationIPv4Address
	fieldOutBytes  = 23 // OUT_BYTES / postOctetDeltaCount (some exporters use it alone)
	fieldSrc6      = 27
	fieldDst6      = 28
	fieldSampling  = 34  // SAMPLING_INTERVAL / samplingInterval (deprecated but common)
	fieldSampling2 = 305 // samplingPacketInterval
)

// Collector receives export packets and hands their flows to an Aggregator.
type Collector struct {
	Agg *Aggregator
	Log *slog.Logger
	// Now stamps flows when the packet's own time is missing or absurd.
	Now func() time.Time

	mu sync.Mutex
	// v9 and IPFIX templates are per exporter: two routers may use the
	// same template id for different layouts.
	templates map[netip.Addr]netflow.NetFlowTemplateSystem
	// sampling rates an exporter announced in options data, by exporter
	// and observation domain.
	sampling map[netip.Addr]uint64

	packets, bad, noTemplate atomic.Uint64
}

// NewCollector makes a collector feeding agg.
func NewCollector(agg *Aggregator) *Collector {
	return &Collector{Agg: agg, Log: slog.Default(), Now: time.Now,
		templates: map[netip.Addr]netflow.NetFlowTemplateSystem{}, sampling: map[netip.Addr]uint64{}}
}

// ErrPacket is returned for a packet that is not NetFlow v5/v9 or IPFIX.
var ErrPacket = errors.New("not a NetFlow v5/v9 or IPFIX packet")

// CollectorStats counts packets.
type CollectorStats struct{ Packets, Bad, NoTemplate uint64 }

// Stats reports the counters.
func (c *Collector) Stats() CollectorStats {
	return CollectorStats{Packets: c.packets.Load(), Bad: c.bad.Load(), NoTemplate: c.noTemplate.Load()}
}

func (c *Collector) templatesOf(exporter netip.Addr) netflow.NetFlowTemplateSystem {
	c.mu.Lock()
	defer c.mu.Unlock()
	t := c.templates[exporter]
	if t == nil {
		t = netflow.CreateTemplateSystem()
		c.templates[exporter] = t
	}
	return t
}

// exportTime is the packet's timestamp, or now when the exporter's clock is
// more than a day off (an unset router clock would file traffic in 1970).
func (c *Collector) exportTime(unix uint32) time.Time {
	now := c.Now()
	t := time.Unix(int64(unix), 0)
	if d := now.Sub(t); d > 24*time.Hour || d < -24*time.Hour {
		return now.Truncate(time.Second)
	}
	return t
}

// Handle decodes one export packet from exporter and adds its flows; it may
// change pkt (a v9 header field) and does not keep it. The
// flows are stamped with the packet's export time: routers export a flow
// when it ends or at the active timeout, so that is when its bytes passed,
// give or take the timeout, and it spares a per-record clock conversion.
func (c *Collector) Handle(exporter netip.Addr, pkt []byte) error {
	c.packets.Add(1)
	if len(pkt) < 2 {
		c.bad.Add(1)
		return ErrPacket
	}
	var flows []Flow
	var err error
	switch binary.BigEndian.Uint16(pkt) {
	case 5:
		flows, err = c.v5(pkt)
	case 9:
		// The v9 header's count is meant to be the number of records, but
		// exporters get it wrong (softflowd counts only the templates) and
		// the decoder stops at it. The sets carry their own lengths, so
		// let it read to the end of the packet instead.
		if len(pkt) >= 4 {
			binary.BigEndian.PutUint16(pkt[2:], 0xffff)
		}
		flows, err = c.v9(exporter.Unmap(), pkt)
	case 10:
		flows, err = c.v9(exporter.Unmap(), pkt)
	default:
		err = fmt.Errorf("version %d: %w", binary.BigEndian.Uint16(pkt), ErrPacket)
	}
	if len(flows) > 0 {
		c.Agg.Add(flows)
	}
	if err != nil {
		if errors.Is(err, netflow.ErrorTemplateNotFound) {
			// Normal for the first minutes after a restart: routers resend
			// templates periodically.
			c.noTemplate.Add(1)
			return nil
		}
		c.bad.Add(1)
		return fmt.Errorf("flow packet from %s: %w", exporter, err)
	}
	return nil
}

func (c *Collector) v5(pkt []byte) ([]Flow, error) {
	var p netflowlegacy.PacketNetFlowV5
	if err := netflowlegacy.DecodeMessageVersion(bytes.NewBuffer(pkt), &p); err != nil {
		return nil, err
	}
	// The top two bits name the sampling mode; the rest is the interval.
	rate := uint64(p.SamplingInterval & 0x3fff)
	if rate == 0 {
		rate = 1
	}
	at := c.exportTime(p.UnixSecs)
	out := make([]Flow, 0, len(p.Records))
	for _, r := range p.Records {
		out = append(out, Flow{
			Src: netip.AddrFrom4(be4(uint32(r.SrcAddr))), Dst: netip.AddrFrom4(be4(uint32(r.DstAddr))),
			Bytes: uint64(r.DOctets) * rate, Packets: uint64(r.DPkts) * rate, At: at,
		})
	}
	return out, nil
}

func be4(v uint32) [4]byte {
	var b [4]byte
	binary.BigEndian.PutUint32(b[:], v)
	return b
}

func (c *Collector) v9(exporter netip.Addr, pkt []byte) ([]Flow, error) {
	var nf9 netflow.NFv9Packet
	var ipfix netflow.IPFIXPacket
	err := netflow.DecodeMessageVersion(bytes.NewBuffer(pkt), c.templatesOf(exporter), &nf9, &ipfix)
	sets, unix := nf9.FlowSets, nf9.UnixSeconds
	if binary.BigEndian.Uint16(pkt) == 10 {
		sets, unix = ipfix.FlowSets, ipfix.ExportTime
	}
	at := c.exportTime(unix)
	var out []Flow
	for _, s := range sets {
		switch fs := s.(type) {
		case netflow.DataFlowSet:
			c.mu.Lock()
			rate := max(c.sampling[exporter], 1)
			c.mu.Unlock()
			for _, rec := range fs.Records {
				if f, ok := recordFlow(rec.Values, rate); ok {
					f.At = at
					out = append(out, f)
				}
			}
		case netflow.OptionsDataFlowSet:
			// Sampler options (Cisco, Juniper) carry the rate here.
			for _, rec := range fs.Records {
				for _, v := range rec.OptionsValues {
					if v.Type == fieldSampling || v.Type == fieldSampling2 {
						if n := uintOf(v.Value); n > 0 {
							c.mu.Lock()
							c.sampling[exporter] = n
							c.mu.Unlock()
						}
					}
				}
			}
		}
	}
	return out, err
}

// recordFlow picks addresses and counters out of a v9/IPFIX data record.
func recordFlow(vals []netflow.DataField, rate uint64) (Flow, bool) {
	var f Flow
	var outBytes uint64
	for _, v := range vals {
		if v.PenProvided {
			continue
		}
		b, _ := v.Value.([]byte)
		switch v.Type {
		case fieldSrc4, fieldSrc6:
			if a, ok := netip.AddrFromSlice(b); ok {
				f.Src = a
			}
		case fieldDst4, fieldDst6:
			if a, ok := netip.AddrFromSlice(b); ok {
				f.Dst = a
			}
		case fieldInBytes:
			f.Bytes = uintOf(b)
		case fieldOutBytes:
			outBytes = uintOf(b)
		case fieldInPkts:
			f.Packets = uintOf(b)
		case fieldSampling:
			if n := uintOf(b); n > 0 {
				rate = n
			}
		}
	}
	if f.Bytes == 0 {
		f.Bytes = outBytes
	}
	if !f.Src.IsValid() || !f.Dst.IsValid() || f.Bytes == 0 {
		return f, false
	}
	f.Bytes *= rate
	f.Packets *= rate
	return f, true
}

// uintOf reads a big-endian unsigned field of 1 to 8 bytes (RFC 7011 reduced
// size encoding lets exporters shorten counters).
func uintOf(v any) uint64 {
	b, _ := v.([]byte)
	if len(b) > 8 {
		return 0
	}
	var n uint64
	for _, x := range b {
		n = n<<8 | uint64(x)
	}
	return n
}

// Serve reads packets from conn until ctx ends or conn fails.
func (c *Collector) Serve(ctx context.Context, conn net.PacketConn) error {
	go func() {
		<-ctx.Done()
		conn.Close()
	}()
	buf := make([]byte, 65535)
	for {
		n, addr, err := conn.ReadFrom(buf)
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return fmt.Errorf("flow collector: %w", err)
		}
		var from netip.Addr
		if ua, ok := addr.(*net.UDPAddr); ok {
			from = ua.AddrPort().Addr()
		}
		if err := c.Handle(from, buf[:n]); err != nil {
			c.Log.Debug("flow packet dropped", "from", from, "err", err)
		}
	}
}

// ListenAndServe listens on the UDP address (e.g. ":2055") and serves until
// ctx ends.
func (c *Collector) ListenAndServe(ctx context.Context, addr string) error {
	var lc net.ListenConfig
	conn, err := lc.ListenPacket(ctx, "udp", addr)
	if err != nil {
		return fmt.Errorf("flow collector on %s: %w", addr, err)
	}
	if uc, ok := conn.(*net.UDPConn); ok {
		uc.SetReadBuffer(8 << 20) // bursts of exports must not overflow the socket
	}
	c.Log.Info("flow collector listening", "addr", conn.LocalAddr().String())
	return c.Serve(ctx, conn)
}
