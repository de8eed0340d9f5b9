package smpp

import (
	"fmt"
	"strings"
	"time"
)

// Receipt is an SMSC delivery receipt: a deliver_sm with esm_class's
// message type 0001 (spec 5.2.12). Its short_message carries the text of
// spec Appendix B, "id:IIIIIIIIII sub:SSS dlvrd:DDD submit date:YYMMDDhhmm
// done date:YYMMDDhhmm stat:DDDDDDD err:E Text: ...", which the spec calls
// vendor-specific; the receipted_message_id and message_state TLVs, when
// the SMSC sends them, are preferred to the text.
type Receipt struct {
	MessageID string // the id submit_sm_resp gave
	State     string // DELIVRD, EXPIRED, DELETED, UNDELIV, ACCEPTD, UNKNOWN, REJECTD, ENROUTE
	Err       string // the network's error code, as sent
	Dest      string // the subscriber's number (the receipt's source_addr)
	Done      time.Time
}

// Delivered tells a receipt of a message that reached the phone.
func (r Receipt) Delivered() bool { return r.State == "DELIVRD" }

// Final tells a receipt after which no other comes (anything but en route
// or accepted).
func (r Receipt) Final() bool { return r.State != "ENROUTE" && r.State != "ACCEPTD" && r.State != "" }

// message_state values (spec 5.2.28) by their receipt text.
var messageStates = map[byte]string{1: "ENROUTE", 2: "DELIVRD", 3: "EXPIRED", 4: "DELETED", 5: "UNDELIV", 6: "ACCEPTD", 7: "UNKNOWN", 8: "REJECTD"}

// MessageStateCode is the message_state TLV value of a receipt state.
func MessageStateCode(state string) byte {
	for c, s := range messageStates {
		if s == state {
			return c
		}
	}
	return 7
}

// IsReceipt tells a delivery receipt from a message a phone sent.
func (m ShortMessage) IsReceipt() bool { return m.ESMClass&ESMClassReceiptMask == ESMClassDeliveryRcpt }

// ParseReceipt reads a delivery receipt from a deliver_sm's body.
func ParseReceipt(m ShortMessage) (Receipt, error) {
	if !m.IsReceipt() {
		return Receipt{}, fmt.Errorf("smpp: deliver_sm with esm_class 0x%02x is not a delivery receipt", m.ESMClass)
	}
	r := Receipt{Dest: m.Source}
	text := string(m.Message)
	if v, ok := m.TLV(TagMessagePayload); ok && len(m.Message) == 0 {
		text = string(v)
	}
	fields := receiptFields(text)
	r.MessageID, r.State, r.Err = fields["id"], strings.ToUpper(fields["stat"]), fields["err"]
	if v, ok := m.TLV(TagReceiptedMessageID); ok {
		r.MessageID = strings.TrimRight(string(v), "\x00")
	}
	if v, ok := m.TLV(TagMessageState); ok && len(v) == 1 {
		if s, ok := messageStates[v[0]]; ok {
			r.State = s
		}
	}
	// Dates are the SMSC's local time, which the receipt does not name;
	// read as UTC, they are only for display.
	if d := fields["done date"]; d != "" {
		for _, layout := range []string{"0601021504", "060102150405"} {
			if t, err := time.Parse(layout, d); err == nil {
				r.Done = t
				break
			}
		}
	}
	if r.MessageID == "" {
		return r, fmt.Errorf("%w: delivery receipt without a message id: %q", ErrFormat, text)
	}
	return r, nil
}

// receiptFields reads "key:value" pairs of the Appendix B text. Two keys
// contain a space ("submit date", "done date"); the text after "Text:"
// is the message's beginning and is not read.
func receiptFields(s string) map[string]string {
	if i := strings.Index(strings.ToLower(s), "text:"); i >= 0 {
		s = s[:i]
	}
	out := map[string]string{}
	words := strings.Fields(s)
	for i := 0; i < len(words); i++ {
		w := words[i]
		if (w == "submit" || w == "done") && i+1 < len(words) && strings.HasPrefix(words[i+1], "date:") {
			i++
			out[w+" date"] = strings.TrimPrefix(words[i], "date:")
			continue
		}
		if k, v, ok := strings.Cut(w, ":"); ok {
			out[strings.ToLower(k)] = v
		}
	}
	return out
}

// FormatReceipt writes a receipt's text as Appendix B lays it out (the
// simulator sends it).
func FormatReceipt(id, state, errCode string, submitted, done time.Time, text string) string {
	dlvrd := "000"
	if state == "DELIVRD" {
		dlvrd = "001"
	}
	if len(text) > 20 {
		text = text[:20]
	}
	return fmt.Sprintf("id:%s sub:001 dlvrd:%s submit date:%s done date:%s stat:%s err:%s Text:%s",
		id, dlvrd, submitted.Format("0601021504"), done.Format("0601021504"), state, errCode, text)
}
