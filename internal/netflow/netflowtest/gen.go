// Package netflowtest builds NetFlow v5, v9 and IPFIX export packets and pcap
// files, for the collector's tests and benchmarks: what a router sends,
// byte for byte, without a router.
package netflowtest

import (
	"encoding/binary"
	"net/netip"
	"time"
)

// Rec is one flow to encode.
type Rec struct {
	Src, Dst       netip.Addr
	Bytes, Packets uint64
}

// V5 encodes up to 30 IPv4 records as one NetFlow v5 packet; sampling is
// the header's interval field (0: unsampled).
func V5(recs []Rec, at time.Time, seq uint32, sampling uint16) []byte {
	b := make([]byte, 24, 24+48*len(recs))
	be := binary.BigEndian
	be.PutUint16(b[0:], 5)
	be.PutUint16(b[2:], uint16(len(recs)))
	be.PutUint32(b[4:], 3600_000) // sysUptime: an hour
	be.PutUint32(b[8:], uint32(at.Unix()))
	be.PutUint32(b[16:], seq)
	be.PutUint16(b[22:], sampling)
	for _, r := range recs {
		var x [48]byte
		s, d := r.Src.As4(), r.Dst.As4()
		copy(x[0:], s[:])
		copy(x[4:], d[:])
		be.PutUint32(x[16:], uint32(r.Packets))
		be.PutUint32(x[20:], uint32(r.Bytes))
		be.PutUint32(x[24:], 3500_000)
		be.PutUint32(x[28:], 3590_000)
		be.PutUint16(x[32:], 40000)
		be.PutUint16(x[34:], 443)
		x[38] = 6
		b = append(b, x[:]...)
	}
	return b
}

// Template ids the generators use: IPv4 and IPv6 layouts.
const (
	Template4 = 256
	Template6 = 257
)

type field struct{ typ, len uint16 }

// v4 and v6 record layouts; the byte counter is 4 bytes in v9 (as most
// routers send it) and 8 in IPFIX (as RFC 7011 defines it).
func layout(ipfix, v6 bool) []field {
	n := uint16(4)
	if ipfix {
		n = 8
	}
	src, dst, alen := uint16(8), uint16(12), uint16(4)
	if v6 {
		src, dst, alen = 27, 28, 16
	}
	return []field{{src, alen}, {dst, alen}, {1, n}, {2, n}, {7, 2}, {11, 2}, {4, 1}}
}

func templateSet(ipfix bool) []byte {
	be := binary.BigEndian
	id := uint16(0)
	if ipfix {
		id = 2
	}
	b := []byte{0, 0, 0, 0}
	be.PutUint16(b, id)
	for _, t := range []struct {
		id uint16
		v6 bool
	}{{Template4, false}, {Template6, true}} {
		fs := layout(ipfix, t.v6)
		b = be.AppendUint16(b, t.id)
		b = be.AppendUint16(b, uint16(len(fs)))
		for _, f := range fs {
			b = be.AppendUint16(b, f.typ)
			b = be.AppendUint16(b, f.len)
		}
	}
	be.PutUint16(b[2:], uint16(len(b)))
	return b
}

func dataSet(ipfix, v6 bool, recs []Rec) ([]byte, int) {
	be := binary.BigEndian
	fs := layout(ipfix, v6)
	id := uint16(Template4)
	if v6 {
		id = Template6
	}
	b := []byte{0, 0, 0, 0}
	be.PutUint16(b, id)
	n := 0
	for _, r := range recs {
		if r.Src.Is6() != v6 {
			continue
		}
		n++
		for _, f := range fs {
			switch f.typ {
			case 8, 27:
				b = append(b, r.Src.AsSlice()...)
			case 12, 28:
				b = append(b, r.Dst.AsSlice()...)
			case 1, 2:
				v := r.Bytes
				if f.typ == 2 {
					v = r.Packets
				}
				if f.len == 8 {
					b = be.AppendUint64(b, v)
				} else {
					b = be.AppendUint32(b, uint32(v))
				}
			case 7:
				b = be.AppendUint16(b, 40000)
			case 11:
				b = be.AppendUint16(b, 443)
			case 4:
				b = append(b, 6)
			}
		}
	}
	if n == 0 {
		return nil, 0
	}
	for len(b)%4 != 0 {
		b = append(b, 0) // sets are padded to 4 bytes
	}
	be.PutUint16(b[2:], uint16(len(b)))
	return b, n
}

// V9 encodes records (IPv4 and IPv6 mixed) as one NetFlow v9 packet, with
// the templates first when withTemplates.
func V9(recs []Rec, at time.Time, seq uint32, withTemplates bool) []byte {
	return encode(false, recs, at, seq, withTemplates)
}

// IPFIX encodes records as one IPFIX message.
func IPFIX(recs []Rec, at time.Time, seq uint32, withTemplates bool) []byte {
	return encode(true, recs, at, seq, withTemplates)
}

func encode(ipfix bool, recs []Rec, at time.Time, seq uint32, withTemplates bool) []byte {
	be := binary.BigEndian
	var body []byte
	count := 0
	if withTemplates {
		body = append(body, templateSet(ipfix)...)
		count += 2
	}
	for _, v6 := range []bool{false, true} {
		if d, n := dataSet(ipfix, v6, recs); n > 0 {
			body = append(body, d...)
			count += n
		}
	}
	var h []byte
	if ipfix {
		h = make([]byte, 16)
		be.PutUint16(h[0:], 10)
		be.PutUint16(h[2:], uint16(16+len(body)))
		be.PutUint32(h[4:], uint32(at.Unix()))
		be.PutUint32(h[8:], seq)
		be.PutUint32(h[12:], 1)
	} else {
		h = make([]byte, 20)
		be.PutUint16(h[0:], 9)
		be.PutUint16(h[2:], uint16(count))
		be.PutUint32(h[4:], 3600_000)
		be.PutUint32(h[8:], uint32(at.Unix()))
		be.PutUint32(h[12:], seq)
		be.PutUint32(h[16:], 1)
	}
	return append(h, body...)
}

// Pcap builds a pcap file (Ethernet) of UDP/IPv4 packets, one per record,
// each carrying rec.Bytes−28 bytes of payload so that the IP length is
// rec.Bytes, at times from at on, a millisecond apart.
func Pcap(recs []Rec, at time.Time) []byte {
	le, be := binary.LittleEndian, binary.BigEndian
	b := make([]byte, 24)
	le.PutUint32(b[0:], 0xa1b2c3d4)
	le.PutUint16(b[4:], 2)
	le.PutUint16(b[6:], 4)
	le.PutUint32(b[16:], 65535)
	le.PutUint32(b[20:], 1) // LINKTYPE_ETHERNET
	for i, r := range recs {
		ipLen := int(r.Bytes)
		frame := make([]byte, 14+ipLen)
		copy(frame[0:6], []byte{2, 0, 0, 0, 0, 1})
		copy(frame[6:12], []byte{2, 0, 0, 0, 0, 2})
		be.PutUint16(frame[12:], 0x0800)
		ip := frame[14:]
		ip[0] = 0x45
		be.PutUint16(ip[2:], uint16(ipLen))
		ip[8] = 64
		ip[9] = 17
		s, d := r.Src.As4(), r.Dst.As4()
		copy(ip[12:], s[:])
		copy(ip[16:], d[:])
		var sum uint32
		for j := 0; j < 20; j += 2 {
			sum += uint32(be.Uint16(ip[j:]))
		}
		for sum > 0xffff {
			sum = sum&0xffff + sum>>16
		}
		be.PutUint16(ip[10:], ^uint16(sum))
		be.PutUint16(ip[20:], 40000)
		be.PutUint16(ip[22:], 53)
		be.PutUint16(ip[24:], uint16(ipLen-20))
		t := at.Add(time.Duration(i) * time.Millisecond)
		rh := make([]byte, 16)
		le.PutUint32(rh[0:], uint32(t.Unix()))
		le.PutUint32(rh[4:], uint32(t.Nanosecond()/1000))
		le.PutUint32(rh[8:], uint32(len(frame)))
		le.PutUint32(rh[12:], uint32(len(frame)))
		b = append(b, rh...)
		b = append(b, frame...)
	}
	return b
}
