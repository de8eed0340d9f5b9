// Package smpp is the few PDUs of SMPP 3.4 Kabinet needs to hand SMS to an
// aggregator's SMSC, written from the SMPP v3.4 specification (Issue 1.2):
// bind_transmitter and bind_transceiver, submit_sm, deliver_sm (delivery
// receipts), enquire_link, unbind and generic_nack with their responses.
// No Go SMPP module is served by the module proxy here, and these are all
// an ESME that only sends needs.
//
// A PDU is a 16-octet header (command_length, command_id, command_status,
// sequence_number, each a big-endian 4-octet integer; command_length counts
// the header too) and a body of mandatory fields in a fixed order followed
// by optional TLVs (2-octet tag, 2-octet length, value). C-Octet strings end
// with a NUL; the maximum sizes named below include it (spec 4.1 ff.).
package smpp

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// Command ids (spec 5.1.2). A response is its request's id with the top
// bit set.
const (
	GenericNack     uint32 = 0x80000000
	BindReceiver    uint32 = 0x00000001
	BindTransmitter uint32 = 0x00000002
	SubmitSM        uint32 = 0x00000004
	DeliverSM       uint32 = 0x00000005
	Unbind          uint32 = 0x00000006
	BindTransceiver uint32 = 0x00000009
	EnquireLink     uint32 = 0x00000015

	respBit uint32 = 0x80000000
)

// Resp is the response id of a request id.
func Resp(id uint32) uint32 { return id | respBit }

// IsResp tells a response (and generic_nack) from a request.
func IsResp(id uint32) bool { return id&respBit != 0 }

// CommandName names a command id for logs and errors.
func CommandName(id uint32) string {
	names := map[uint32]string{GenericNack: "generic_nack", BindReceiver: "bind_receiver", BindTransmitter: "bind_transmitter",
		SubmitSM: "submit_sm", DeliverSM: "deliver_sm", Unbind: "unbind", BindTransceiver: "bind_transceiver", EnquireLink: "enquire_link"}
	if n, ok := names[id]; ok {
		return n
	}
	if n, ok := names[id&^respBit]; ok && IsResp(id) {
		return n + "_resp"
	}
	return fmt.Sprintf("command 0x%08x", id)
}

// Status is a command_status (spec 5.1.3).
type Status uint32

// The statuses Kabinet tells apart.
const (
	StatusOK            Status = 0x00000000 // ESME_ROK
	StatusInvMsgLen     Status = 0x00000001 // ESME_RINVMSGLEN
	StatusInvCmdLen     Status = 0x00000002 // ESME_RINVCMDLEN
	StatusInvCmdID      Status = 0x00000003 // ESME_RINVCMDID
	StatusInvBindStatus Status = 0x00000004 // ESME_RINVBNDSTS
	StatusAlreadyBound  Status = 0x00000005 // ESME_RALYBND
	StatusSysErr        Status = 0x00000008 // ESME_RSYSERR
	StatusInvSrcAddr    Status = 0x0000000A // ESME_RINVSRCADR
	StatusInvDstAddr    Status = 0x0000000B // ESME_RINVDSTADR
	StatusBindFail      Status = 0x0000000D // ESME_RBINDFAIL
	StatusInvPassword   Status = 0x0000000E // ESME_RINVPASWD
	StatusInvSystemID   Status = 0x0000000F // ESME_RINVSYSID
	StatusMsgQueueFull  Status = 0x00000014 // ESME_RMSGQFUL
	StatusSubmitFail    Status = 0x00000045 // ESME_RSUBMITFAIL
	StatusThrottled     Status = 0x00000058 // ESME_RTHROTTLED
	StatusUnknownErr    Status = 0x000000FF // ESME_RUNKNOWNERR
)

var statusNames = map[Status]string{
	StatusOK: "ESME_ROK", StatusInvMsgLen: "ESME_RINVMSGLEN", StatusInvCmdLen: "ESME_RINVCMDLEN", StatusInvCmdID: "ESME_RINVCMDID",
	StatusInvBindStatus: "ESME_RINVBNDSTS", StatusAlreadyBound: "ESME_RALYBND", StatusSysErr: "ESME_RSYSERR",
	StatusInvSrcAddr: "ESME_RINVSRCADR", StatusInvDstAddr: "ESME_RINVDSTADR", StatusBindFail: "ESME_RBINDFAIL",
	StatusInvPassword: "ESME_RINVPASWD", StatusInvSystemID: "ESME_RINVSYSID", StatusMsgQueueFull: "ESME_RMSGQFUL",
	StatusSubmitFail: "ESME_RSUBMITFAIL", StatusThrottled: "ESME_RTHROTTLED", StatusUnknownErr: "ESME_RUNKNOWNERR",
}

func (s Status) String() string {
	if n, ok := statusNames[s]; ok {
		return n
	}
	return fmt.Sprintf("status 0x%08x", uint32(s))
}

// Temporary tells the statuses worth retrying later: the SMSC is busy or
// throttling, or failed inside; the others (a bad number, bad credentials)
// repeat themselves.
func (s Status) Temporary() bool {
	switch s {
	case StatusThrottled, StatusMsgQueueFull, StatusSysErr, StatusUnknownErr:
		return true
	}
	return false
}

// Optional parameter tags (spec 5.3.2).
const (
	TagReceiptedMessageID uint16 = 0x001E
	TagSarMsgRefNum       uint16 = 0x020C
	TagSarTotalSegments   uint16 = 0x020E
	TagSarSegmentSeqnum   uint16 = 0x020F
	TagMessagePayload     uint16 = 0x0424
	TagMessageState       uint16 = 0x0427
)

// Header is a PDU's header.
type Header struct {
	Length  uint32
	Command uint32
	Status  Status
	Seq     uint32
}

// PDU is one protocol data unit: the header and the body's bytes, which
// the Decode functions below read by command.
type PDU struct {
	Command uint32
	Status  Status
	Seq     uint32
	Body    []byte
}

// MaxPDU bounds a PDU read from the peer: submit_sm with a full
// message_payload stays far below; anything longer is a broken stream.
const MaxPDU = 64 << 10

// ErrFormat is a malformed PDU.
var ErrFormat = errors.New("smpp: malformed PDU")

// ReadPDU reads one PDU.
func ReadPDU(r io.Reader) (PDU, error) {
	var h [16]byte
	if _, err := io.ReadFull(r, h[:]); err != nil {
		return PDU{}, err
	}
	n := binary.BigEndian.Uint32(h[0:4])
	if n < 16 || n > MaxPDU {
		return PDU{}, fmt.Errorf("%w: command_length %d", ErrFormat, n)
	}
	p := PDU{Command: binary.BigEndian.Uint32(h[4:8]), Status: Status(binary.BigEndian.Uint32(h[8:12])), Seq: binary.BigEndian.Uint32(h[12:16])}
	if n > 16 {
		p.Body = make([]byte, n-16)
		if _, err := io.ReadFull(r, p.Body); err != nil {
			return PDU{}, err
		}
	}
	return p, nil
}

// Bytes encodes p with its header.
func (p PDU) Bytes() []byte {
	b := make([]byte, 16, 16+len(p.Body))
	binary.BigEndian.PutUint32(b[0:4], uint32(16+len(p.Body)))
	binary.BigEndian.PutUint32(b[4:8], p.Command)
	binary.BigEndian.PutUint32(b[8:12], uint32(p.Status))
	binary.BigEndian.PutUint32(b[12:16], p.Seq)
	return append(b, p.Body...)
}

// TLV is an optional parameter.
type TLV struct {
	Tag   uint16
	Value []byte
}

// writer builds a body.
type writer struct{ bytes.Buffer }

// cstr writes a C-Octet string, cut to fit max octets with its NUL.
func (w *writer) cstr(s string, max int) {
	if len(s) > max-1 {
		s = s[:max-1]
	}
	w.WriteString(s)
	w.WriteByte(0)
}

func (w *writer) tlvs(ts []TLV) {
	for _, t := range ts {
		var h [4]byte
		binary.BigEndian.PutUint16(h[0:2], t.Tag)
		binary.BigEndian.PutUint16(h[2:4], uint16(len(t.Value)))
		w.Write(h[:])
		w.Write(t.Value)
	}
}

// reader reads a body; the first error sticks.
type reader struct {
	b   []byte
	err error
}

func (r *reader) byte() byte {
	if r.err != nil {
		return 0
	}
	if len(r.b) < 1 {
		r.err = fmt.Errorf("%w: body too short", ErrFormat)
		return 0
	}
	c := r.b[0]
	r.b = r.b[1:]
	return c
}

// cstr reads a C-Octet string of at most max octets with its NUL.
func (r *reader) cstr(max int) string {
	if r.err != nil {
		return ""
	}
	i := bytes.IndexByte(r.b, 0)
	if i < 0 || i+1 > max {
		r.err = fmt.Errorf("%w: C-Octet string without NUL within %d octets", ErrFormat, max)
		return ""
	}
	s := string(r.b[:i])
	r.b = r.b[i+1:]
	return s
}

func (r *reader) octets(n int) []byte {
	if r.err != nil {
		return nil
	}
	if len(r.b) < n {
		r.err = fmt.Errorf("%w: %d octets wanted, %d left", ErrFormat, n, len(r.b))
		return nil
	}
	v := bytes.Clone(r.b[:n])
	r.b = r.b[n:]
	return v
}

func (r *reader) tlvs() []TLV {
	var out []TLV
	for r.err == nil && len(r.b) > 0 {
		if len(r.b) < 4 {
			r.err = fmt.Errorf("%w: truncated TLV", ErrFormat)
			return out
		}
		tag, n := binary.BigEndian.Uint16(r.b[0:2]), int(binary.BigEndian.Uint16(r.b[2:4]))
		r.b = r.b[4:]
		out = append(out, TLV{Tag: tag, Value: r.octets(n)})
	}
	return out
}

// Bind is the body of bind_transmitter, bind_receiver and bind_transceiver
// (spec 4.1.1): system_id (16), password (9), system_type (13),
// interface_version, addr_ton, addr_npi, address_range (41).
type Bind struct {
	SystemID         string
	Password         string
	SystemType       string
	InterfaceVersion byte // 0x34 for SMPP 3.4
	AddrTON, AddrNPI byte
	AddressRange     string
}

// Encode writes the body.
func (b Bind) Encode() []byte {
	var w writer
	w.cstr(b.SystemID, 16)
	w.cstr(b.Password, 9)
	w.cstr(b.SystemType, 13)
	w.WriteByte(b.InterfaceVersion)
	w.WriteByte(b.AddrTON)
	w.WriteByte(b.AddrNPI)
	w.cstr(b.AddressRange, 41)
	return w.Bytes()
}

// DecodeBind reads a bind body.
func DecodeBind(body []byte) (Bind, error) {
	r := reader{b: body}
	b := Bind{SystemID: r.cstr(16), Password: r.cstr(9), SystemType: r.cstr(13), InterfaceVersion: r.byte(),
		AddrTON: r.byte(), AddrNPI: r.byte(), AddressRange: r.cstr(41)}
	return b, r.err
}

// BindResp is the body of a bind response: the SMSC's system_id, then
// optionally sc_interface_version. A refused bind may come with no body.
type BindResp struct {
	SystemID string
	TLVs     []TLV
}

// Encode writes the body.
func (b BindResp) Encode() []byte {
	var w writer
	w.cstr(b.SystemID, 16)
	w.tlvs(b.TLVs)
	return w.Bytes()
}

// DecodeBindResp reads a bind response body.
func DecodeBindResp(body []byte) (BindResp, error) {
	if len(body) == 0 {
		return BindResp{}, nil
	}
	r := reader{b: body}
	b := BindResp{SystemID: r.cstr(16)}
	b.TLVs = r.tlvs()
	return b, r.err
}

// ShortMessage is the body of submit_sm and deliver_sm (spec 4.4.1, 4.6.1:
// the same mandatory fields in the same order).
type ShortMessage struct {
	ServiceType          string // 6
	SourceTON, SourceNPI byte
	Source               string // 21
	DestTON, DestNPI     byte
	Dest                 string // 21
	ESMClass             byte
	ProtocolID           byte
	Priority             byte
	ScheduleDeliveryTime string // 17, empty: now
	ValidityPeriod       string // 17, empty: the SMSC's default
	RegisteredDelivery   byte
	ReplaceIfPresent     byte
	DataCoding           byte
	DefaultMsgID         byte
	Message              []byte // short_message, at most 254 octets (sm_length is one octet)
	TLVs                 []TLV
}

// esm_class bits (spec 5.2.12).
const (
	ESMClassUDHI         byte = 0x40 // the message begins with a User Data Header
	ESMClassReceiptMask  byte = 0x3C // bits 5..2: the message type
	ESMClassDeliveryRcpt byte = 0x04 // SMSC delivery receipt
)

// registered_delivery (spec 5.2.17): a receipt on final success or failure.
const RegisteredDeliveryFinal byte = 0x01

// TON and NPI used for numbers (spec 5.2.5, 5.2.6).
const (
	TONUnknown       byte = 0x00
	TONInternational byte = 0x01
	TONAlphanumeric  byte = 0x05
	NPIUnknown       byte = 0x00
	NPIE164          byte = 0x01
)

// Encode writes the body.
func (m ShortMessage) Encode() []byte {
	var w writer
	w.cstr(m.ServiceType, 6)
	w.WriteByte(m.SourceTON)
	w.WriteByte(m.SourceNPI)
	w.cstr(m.Source, 21)
	w.WriteByte(m.DestTON)
	w.WriteByte(m.DestNPI)
	w.cstr(m.Dest, 21)
	w.WriteByte(m.ESMClass)
	w.WriteByte(m.ProtocolID)
	w.WriteByte(m.Priority)
	w.cstr(m.ScheduleDeliveryTime, 17)
	w.cstr(m.ValidityPeriod, 17)
	w.WriteByte(m.RegisteredDelivery)
	w.WriteByte(m.ReplaceIfPresent)
	w.WriteByte(m.DataCoding)
	w.WriteByte(m.DefaultMsgID)
	w.WriteByte(byte(len(m.Message)))
	w.Write(m.Message)
	w.tlvs(m.TLVs)
	return w.Bytes()
}

// DecodeShortMessage reads a submit_sm or deliver_sm body.
func DecodeShortMessage(body []byte) (ShortMessage, error) {
	r := reader{b: body}
	m := ShortMessage{ServiceType: r.cstr(6), SourceTON: r.byte(), SourceNPI: r.byte(), Source: r.cstr(21),
		DestTON: r.byte(), DestNPI: r.byte(), Dest: r.cstr(21), ESMClass: r.byte(), ProtocolID: r.byte(), Priority: r.byte(),
		ScheduleDeliveryTime: r.cstr(17), ValidityPeriod: r.cstr(17), RegisteredDelivery: r.byte(), ReplaceIfPresent: r.byte(),
		DataCoding: r.byte(), DefaultMsgID: r.byte()}
	n := int(r.byte())
	m.Message = r.octets(n)
	m.TLVs = r.tlvs()
	return m, r.err
}

// TLV returns the value of the optional parameter tag.
func (m ShortMessage) TLV(tag uint16) ([]byte, bool) {
	for _, t := range m.TLVs {
		if t.Tag == tag {
			return t.Value, true
		}
	}
	return nil, false
}

// SubmitResp is the body of submit_sm_resp: the SMSC's message_id (65).
// The spec says an error response has no body; some SMSCs send an empty
// message_id anyway, which reads the same.
type SubmitResp struct{ MessageID string }

// Encode writes the body.
func (s SubmitResp) Encode() []byte {
	var w writer
	w.cstr(s.MessageID, 65)
	return w.Bytes()
}

// DecodeSubmitResp reads a submit_sm_resp body.
func DecodeSubmitResp(body []byte) (SubmitResp, error) {
	if len(body) == 0 {
		return SubmitResp{}, nil
	}
	r := reader{b: body}
	return SubmitResp{MessageID: r.cstr(65)}, r.err
}

// DeliverResp is deliver_sm_resp's body: message_id, unused, set to NULL.
var DeliverResp = []byte{0}
