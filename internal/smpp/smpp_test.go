package smpp_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kabinet-billing/kabinet/internal/smpp"
	"github.com/kabinet-billing/kabinet/internal/smpp/smsctest"
)

func TestSplit(t *testing.T) {
	cyr := func(n int) string { return strings.Repeat("Ж", n) }
	for _, c := range []struct {
		name   string
		text   string
		coding byte
		parts  int
	}{
		{"latin", "Balance 100.00 RUB", smpp.CodingDefault, 1},
		{"gsm extension", "Pay {now} €5", smpp.CodingDefault, 1},
		{"cyrillic", "Баланс 100,00 ₽", smpp.CodingUCS2, 1},
		{"70 cyrillic", cyr(70), smpp.CodingUCS2, 1},
		{"71 cyrillic", cyr(71), smpp.CodingUCS2, 2},
		{"134 cyrillic", cyr(134), smpp.CodingUCS2, 2},
		{"135 cyrillic", cyr(135), smpp.CodingUCS2, 3},
		{"160 latin", strings.Repeat("a", 160), smpp.CodingDefault, 1},
		{"161 latin", strings.Repeat("a", 161), smpp.CodingDefault, 2},
		{"escape at the cut", strings.Repeat("a", 152) + "{" + strings.Repeat("b", 10), smpp.CodingDefault, 2},
		{"emoji at the cut", cyr(66) + "😀" + cyr(10), smpp.CodingUCS2, 2},
	} {
		t.Run(c.name, func(t *testing.T) {
			segs, err := smpp.Split(c.text, 7)
			if err != nil {
				t.Fatal(err)
			}
			if len(segs) != c.parts {
				t.Fatalf("%d parts, want %d", len(segs), c.parts)
			}
			var got strings.Builder
			for i, s := range segs {
				if s.DataCoding != c.coding {
					t.Errorf("part %d: data_coding %#x, want %#x", i, s.DataCoding, c.coding)
				}
				if len(s.Data) > 160 || (s.DataCoding == smpp.CodingUCS2 && len(s.Data) > 140) {
					t.Errorf("part %d: %d octets, too long for one SMS", i, len(s.Data))
				}
				data := s.Data
				if s.UDH != (c.parts > 1) {
					t.Errorf("part %d: UDH %v with %d parts", i, s.UDH, c.parts)
				}
				if s.UDH {
					cc, rest, err := smpp.ReadUDH(data)
					if err != nil {
						t.Fatal(err)
					}
					if cc.Ref != 7 || cc.Total != c.parts || cc.Seq != i+1 {
						t.Errorf("part %d: concat %+v", i, cc)
					}
					data = rest
				}
				got.WriteString(smpp.Text(s.DataCoding, data))
			}
			if got.String() != c.text {
				t.Errorf("reassembled %q, want %q", got.String(), c.text)
			}
		})
	}
	if _, err := smpp.Split("", 1); err == nil {
		t.Error("an empty message was split")
	}
}

func TestPDUs(t *testing.T) {
	m := smpp.ShortMessage{SourceTON: 5, Source: "Set-Region", DestTON: 1, DestNPI: 1, Dest: "79101234567", ESMClass: 0x40,
		RegisteredDelivery: 1, DataCoding: 8, Message: []byte{0x04, 0x1F}, TLVs: []smpp.TLV{{Tag: smpp.TagSarMsgRefNum, Value: []byte{0, 1}}}}
	p := smpp.PDU{Command: smpp.SubmitSM, Seq: 42, Body: m.Encode()}
	got, err := smpp.ReadPDU(bytes.NewReader(p.Bytes()))
	if err != nil || got.Command != smpp.SubmitSM || got.Seq != 42 {
		t.Fatalf("read back %+v %v", got, err)
	}
	// The header counts itself: 16 + the body.
	if n := p.Bytes(); binary.BigEndian.Uint32(n[0:4]) != uint32(len(n)) {
		t.Errorf("command_length %d, PDU of %d octets", binary.BigEndian.Uint32(n[0:4]), len(n))
	}
	m2, err := smpp.DecodeShortMessage(got.Body)
	if err != nil {
		t.Fatal(err)
	}
	if m2.Dest != m.Dest || m2.Source != m.Source || m2.DataCoding != 8 || !bytes.Equal(m2.Message, m.Message) || len(m2.TLVs) != 1 {
		t.Errorf("decoded %+v", m2)
	}
	b := smpp.Bind{SystemID: "kabinet", Password: "secret", InterfaceVersion: 0x34}
	b2, err := smpp.DecodeBind(b.Encode())
	if err != nil || b2 != b {
		t.Errorf("bind %+v %v", b2, err)
	}
	// A password longer than the field's 8 octets is cut, not overflowed.
	if b3, _ := smpp.DecodeBind(smpp.Bind{SystemID: "k", Password: "0123456789"}.Encode()); b3.Password != "01234567" {
		t.Errorf("long password read back as %q", b3.Password)
	}
	for _, bad := range [][]byte{{0, 0, 0, 8, 0, 0, 0, 4}, {0, 0, 0, 10, 0, 0, 0, 4, 0, 0, 0, 0, 0, 0, 0, 1}, {0xff, 0, 0, 0, 0, 0, 0, 4, 0, 0, 0, 0, 0, 0, 0, 1}} {
		if _, err := smpp.ReadPDU(bytes.NewReader(bad)); err == nil {
			t.Errorf("% x read as a PDU", bad)
		}
	}
	if _, err := smpp.DecodeShortMessage([]byte("abc")); !errors.Is(err, smpp.ErrFormat) {
		t.Errorf("truncated body: %v", err)
	}
}

func TestParseReceipt(t *testing.T) {
	text := smpp.ShortMessage{ESMClass: 0x04, Source: "79101234567",
		Message: []byte("id:0A1B2C sub:001 dlvrd:001 submit date:2703101200 done date:2703101201 stat:DELIVRD err:000 Text:Баланс")}
	r, err := smpp.ParseReceipt(text)
	if err != nil || r.MessageID != "0A1B2C" || !r.Delivered() || !r.Final() || r.Dest != "79101234567" || r.Done.Day() != 10 {
		t.Errorf("text receipt: %+v %v", r, err)
	}
	tlv := smpp.ShortMessage{ESMClass: 0x04, Message: []byte("id:WRONG stat:DELIVRD"),
		TLVs: []smpp.TLV{{Tag: smpp.TagReceiptedMessageID, Value: []byte("77\x00")}, {Tag: smpp.TagMessageState, Value: []byte{5}}}}
	r, err = smpp.ParseReceipt(tlv)
	if err != nil || r.MessageID != "77" || r.State != "UNDELIV" || r.Delivered() {
		t.Errorf("TLV receipt: %+v %v", r, err)
	}
	if _, err := smpp.ParseReceipt(smpp.ShortMessage{Message: []byte("hello")}); err == nil {
		t.Error("a message from a phone read as a receipt")
	}
}

func cfg(s *smsctest.Server) smpp.Config {
	return smpp.Config{Addr: s.Addr(), SystemID: "kabinet", Password: "pw", Source: "SetRegion", Timeout: 2 * time.Second}
}

// TestSession: a long Cyrillic message reaches the SMSC in UCS-2 parts it
// reassembles, and each part's delivery receipt is acknowledged and
// handed on with the id submit_sm_resp gave.
func TestSession(t *testing.T) {
	smsc := smsctest.Start(t, "kabinet", "pw")
	var mu sync.Mutex
	receipts := map[string]string{}
	got := make(chan struct{}, 10)
	c := cfg(smsc)
	c.OnReceipt = func(r smpp.Receipt) {
		mu.Lock()
		receipts[r.MessageID] = r.State
		mu.Unlock()
		got <- struct{}{}
	}
	smsc.Undeliverable("79990000000")
	s, err := smpp.Dial(context.Background(), c)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	text := "Уважаемый абонент! Баланс лицевого счёта 123456: −150,00 ₽. Пополните счёт до 1 апреля, чтобы скорость не ограничили."
	ids, err := s.Submit(context.Background(), "79101234567", text)
	if err != nil || len(ids) != 2 {
		t.Fatalf("submit: %v %v", ids, err)
	}
	if got := smsc.Texts("79101234567"); len(got) != 1 || got[0] != text {
		t.Errorf("the SMSC reassembled %q", got)
	}
	for _, m := range smsc.Messages() {
		if m.DataCoding != smpp.CodingUCS2 || !m.UDHI || !m.Receipt || m.Source != "SetRegion" {
			t.Errorf("part %+v: want UCS-2 with UDH and a receipt asked for", m)
		}
	}
	lost, err := s.Submit(context.Background(), "79990000000", "Test")
	if err != nil {
		t.Fatal(err)
	}
	for range 3 {
		select {
		case <-got:
		case <-time.After(2 * time.Second):
			t.Fatal("no delivery receipt")
		}
	}
	mu.Lock()
	if receipts[ids[0]] != "DELIVRD" || receipts[ids[1]] != "DELIVRD" || receipts[lost[0]] != "UNDELIV" {
		t.Errorf("receipts %v for %v and %v", receipts, ids, lost)
	}
	mu.Unlock()
	if smsc.MaxInFlight() < 1 || smsc.Messages()[2].DataCoding != smpp.CodingDefault {
		t.Errorf("a Latin message went as %#x", smsc.Messages()[2].DataCoding)
	}
	// A number the SMSC refuses is a permanent failure.
	if _, err := s.Submit(context.Background(), "12", "x"); err == nil || smpp.Temporary(err) {
		t.Errorf("a bad number: %v (temporary %v), want a permanent refusal", err, smpp.Temporary(err))
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Submit(context.Background(), "79101234567", "x"); !errors.Is(err, smpp.ErrClosed) {
		t.Errorf("submit after close: %v", err)
	}
	if smsc.ReceiptsAcked() != 3 {
		t.Errorf("%d receipts acknowledged, want 3", smsc.ReceiptsAcked())
	}
}

func TestBindRefused(t *testing.T) {
	smsc := smsctest.Start(t, "kabinet", "pw")
	c := cfg(smsc)
	c.Password = "wrong"
	var be *smpp.BindError
	if _, err := smpp.Dial(context.Background(), c); !errors.As(err, &be) || be.Status != smpp.StatusInvPassword {
		t.Errorf("wrong password: %v", err)
	}
	smsc.RefuseBinds(smpp.StatusBindFail)
	_, err := smpp.Dial(context.Background(), cfg(smsc))
	if !errors.As(err, &be) || be.Status != smpp.StatusBindFail || !smpp.Temporary(err) {
		t.Errorf("refused bind: %v", err)
	}
	smsc.RefuseBinds(0)
	s, err := smpp.Dial(context.Background(), cfg(smsc))
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
}

// TestThrottledAndDropped: ESME_RTHROTTLED is a temporary refusal and the
// next submit goes through; a dropped connection fails what was under way
// as temporary, and the Sender binds again for the next message.
func TestThrottledAndDropped(t *testing.T) {
	smsc := smsctest.Start(t, "kabinet", "pw")
	x := smpp.NewSender(cfg(smsc))
	defer x.Close()
	ctx := context.Background()
	smsc.Throttle(1)
	_, err := x.Send(ctx, "79101234567", "one", 1, 0)
	var se *smpp.StatusError
	if !errors.As(err, &se) || se.Status != smpp.StatusThrottled || !smpp.Temporary(err) {
		t.Fatalf("throttled: %v", err)
	}
	if _, err := x.Send(ctx, "79101234567", "one", 1, 0); err != nil {
		t.Fatal(err)
	}
	smsc.DropAfter(1)
	if _, err := x.Send(ctx, "79101234567", "two", 2, 0); !errors.Is(err, smpp.ErrClosed) || !smpp.Temporary(err) {
		t.Fatalf("dropped: %v", err)
	}
	if _, err := x.Send(ctx, "79101234567", "two", 2, 0); err != nil {
		t.Fatalf("after the drop: %v", err)
	}
	if smsc.Binds() != 2 {
		t.Errorf("%d binds, want 2 (one again after the drop)", smsc.Binds())
	}
	if got := smsc.Texts("79101234567"); strings.Join(got, ",") != "one,two" {
		t.Errorf("delivered %q", got)
	}
	// The SMSC down altogether: a temporary error, not a hang.
	smsc.Close()
	if _, err := x.Send(ctx, "79101234567", "three", 3, 0); err == nil || !smpp.Temporary(err) {
		t.Errorf("SMSC down: %v", err)
	}
}

// TestWindow: with window 2, six messages at once never have more than
// two submit_sm awaiting their response.
func TestWindow(t *testing.T) {
	smsc := smsctest.Start(t, "kabinet", "pw")
	smsc.Delay(30 * time.Millisecond)
	c := cfg(smsc)
	c.Window = 2
	s, err := smpp.Dial(context.Background(), c)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var wg sync.WaitGroup
	for range 6 {
		wg.Go(func() {
			if _, err := s.Submit(context.Background(), "79101234567", "hi"); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if n := smsc.MaxInFlight(); n != 2 {
		t.Errorf("%d submit_sm in flight at most, want the window's 2", n)
	}
}
