package radius

import (
	"encoding/binary"
	"fmt"
	"strconv"
	"strings"

	"layeh.com/radius"
	"layeh.com/radius/rfc2865"
	"layeh.com/radius/rfc2869"
)

// Vendor identifiers (IANA private enterprise numbers).
const (
	vendorCisco     = 9
	vendorMikrotik  = 14988
	vendorWISPr     = 14122
	vendorUnisphere = 4874 // Juniper MX BNG service activation (ERX-* attributes)
)

// ReplyOptions are the provider-wide settings reflected in replies.
type ReplyOptions struct {
	// WalledGarden names the NAS-side object that confines a limited
	// subscriber to the portal: a MikroTik address list, a Cisco/Juniper
	// service or policy. Default "debtors".
	WalledGarden string
	// PortalURL is sent to generic (WISPr) NAS as the redirection URL for
	// limited subscribers; empty sends none.
	PortalURL string
	// FrozenList is where a line frozen by a voluntary suspension goes:
	// empty rejects it (Access-Reject; Disconnect-Request for a live
	// session), a name admits it into that address list (policy, service)
	// as the walled garden, for the NAS to redirect to the portal
	// ([suspension] radius).
	FrozenList string
}

// Admits tells whether a subscriber in this state gets Access-Accept: an
// active or limited one, and a frozen one when frozen lines are redirected.
func (o ReplyOptions) Admits(s Subscriber) bool {
	return s.Status.Admitted() || (s.Status == StatusFrozen && o.FrozenList != "")
}

// confined tells whether the session goes into a walled garden, and which.
func (o ReplyOptions) confined(s Subscriber) (bool, string) {
	if s.Status == StatusFrozen && o.FrozenList != "" {
		return true, o.FrozenList
	}
	return s.Limited, o.walledGarden()
}

func (o ReplyOptions) walledGarden() string {
	if o.WalledGarden == "" {
		return "debtors"
	}
	return o.WalledGarden
}

// vsa builds one Vendor-Specific attribute with a single sub-attribute.
func vsa(vendor uint32, typ byte, val []byte) radius.Attribute {
	// RFC 2865 §5.26: 4 octets vendor, then type, length, value.
	b := make(radius.Attribute, 6+len(val))
	binary.BigEndian.PutUint32(b, vendor)
	b[4] = typ
	b[5] = byte(2 + len(val))
	copy(b[6:], val)
	return b
}

func vsaUint32(vendor uint32, typ byte, v uint32) radius.Attribute {
	var b [4]byte
	binary.BigEndian.PutUint32(b[:], v)
	return vsa(vendor, typ, b[:])
}

// rate formats kbit/s the way MikroTik reads it: k and M are powers of 1000.
func rate(kbps int64) string {
	if kbps > 0 && kbps%1000 == 0 {
		return strconv.FormatInt(kbps/1000, 10) + "M"
	}
	return strconv.FormatInt(kbps, 10) + "k"
}

// speedAttributes are the attributes that set the subscriber's speed and
// walled garden in the NAS kind's own dialect. Access-Accept and CoA-Request
// carry the same set.
func speedAttributes(kind NASKind, s Subscriber, o ReplyOptions) radius.Attributes {
	var a radius.Attributes
	add := func(t radius.Type, v radius.Attribute) { a = append(a, &radius.AVP{Type: t, Attribute: v}) }
	vs := rfc2865.VendorSpecific_Type
	hasRate := s.DownKbps > 0 && s.UpKbps > 0
	limited, garden := o.confined(s)
	switch kind {
	case KindMikrotik:
		if hasRate {
			// rx/tx from the router's side: what it receives is the upload.
			add(vs, vsa(vendorMikrotik, 8, []byte(rate(s.UpKbps)+"/"+rate(s.DownKbps))))
		}
		if limited {
			add(vs, vsa(vendorMikrotik, 19, []byte(garden)))
		}
	case KindCisco:
		// ISG/BNG applies policies configured on the box by name; the
		// names encode the rate so one policy per tariff speed suffices.
		in, out := fmt.Sprintf("kabinet-up-%dk", s.UpKbps), fmt.Sprintf("kabinet-down-%dk", s.DownKbps)
		if limited {
			in, out = garden, garden
		}
		if hasRate || limited {
			add(vs, vsa(vendorCisco, 1, []byte("subscriber:sub-qos-policy-in="+in)))
			add(vs, vsa(vendorCisco, 1, []byte("subscriber:sub-qos-policy-out="+out)))
		}
	case KindJuniper:
		// ERX-Service-Activate (tagged string): service(down,up) in bit/s;
		// the service is a dynamic profile on the router.
		svc := "kabinet-rate"
		if limited {
			svc = garden
		}
		if hasRate || limited {
			val := fmt.Sprintf("%s(%d,%d)", svc, s.DownKbps*1000, s.UpKbps*1000)
			add(vs, vsa(vendorUnisphere, 65, append([]byte{1}, val...)))
		}
	case KindAccel:
		// accel-ppp's shaper reads Filter-Id as down/up in kbit/s.
		if hasRate {
			add(rfc2865.FilterID_Type, radius.Attribute(fmt.Sprintf("%d/%d", s.DownKbps, s.UpKbps)))
		}
	default:
		if hasRate {
			add(vs, vsaUint32(vendorWISPr, 7, clampU32(s.UpKbps*1000)))
			add(vs, vsaUint32(vendorWISPr, 8, clampU32(s.DownKbps*1000)))
		}
		if limited && o.PortalURL != "" {
			add(vs, vsa(vendorWISPr, 4, []byte(o.PortalURL)))
		}
	}
	return a
}

func clampU32(v int64) uint32 {
	if v > 0xffffffff {
		return 0xffffffff
	}
	if v < 0 {
		return 0
	}
	return uint32(v)
}

// classFor is echoed by the NAS in every Accounting-Request of the session:
// it ties the session to the account and to whether it was admitted limited.
func classFor(s Subscriber) string {
	lim := "0"
	if s.Limited {
		lim = "1"
	}
	return "kabinet:" + strconv.FormatInt(s.AccountID, 10) + ":" + lim
}

// ParseClass reads back what classFor wrote; ok is false for foreign values.
// It runs for every accounting record, so it parses by hand (fmt.Sscanf
// was a twentieth of the accounting writer's time).
func ParseClass(c string) (accountID int64, limited bool, ok bool) {
	rest, found := strings.CutPrefix(c, "kabinet:")
	if !found {
		return 0, false, false
	}
	id, lim, found := strings.Cut(rest, ":")
	if !found {
		return 0, false, false
	}
	accountID, err := strconv.ParseInt(id, 10, 64)
	if err != nil {
		return 0, false, false
	}
	l, err := strconv.Atoi(lim)
	if err != nil {
		return 0, false, false
	}
	return accountID, l == 1, true
}

// acceptAttributes fills an Access-Accept for s from a NAS of this kind.
func acceptAttributes(resp *radius.Packet, kind NASKind, s Subscriber, interim int, o ReplyOptions) {
	resp.Attributes = append(resp.Attributes, speedAttributes(kind, s, o)...)
	if s.StaticIP.Is4() {
		ip := s.StaticIP.As4()
		resp.Add(rfc2865.FramedIPAddress_Type, radius.Attribute(ip[:]))
	}
	if interim > 0 {
		resp.Add(rfc2869.AcctInterimInterval_Type, radius.NewInteger(uint32(interim)))
	}
	if s.SessionTimeout > 0 {
		resp.Add(rfc2865.SessionTimeout_Type, radius.NewInteger(uint32(s.SessionTimeout.Seconds())))
	}
	resp.Add(rfc2865.Class_Type, radius.Attribute(classFor(s)))
}
