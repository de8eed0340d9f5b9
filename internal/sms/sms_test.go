package sms_test

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/kabinet-billing/kabinet/internal/clock"
	"github.com/kabinet-billing/kabinet/internal/config"
	"github.com/kabinet-billing/kabinet/internal/phone"
	"github.com/kabinet-billing/kabinet/internal/smpp/smsctest"
	"github.com/kabinet-billing/kabinet/internal/sms"
	"github.com/kabinet-billing/kabinet/internal/store"
	"github.com/kabinet-billing/kabinet/internal/store/storetest"
)

// TestSend: a long Cyrillic SMS goes to the SMSC in parts recorded
// against the message; the receipts mark it delivered (or failed); a
// subscriber without a phone is refused, permanently, before the SMSC.
func TestSend(t *testing.T) {
	for name, open := range map[string]func(testing.TB) *store.DB{"sqlite": storetest.SQLite, "postgres": storetest.Postgres} {
		t.Run(name, func(t *testing.T) {
			db := open(t)
			smsc := smsctest.Start(t, "kabinet", "pw")
			smsc.Undeliverable("79990000000")
			host, port := splitAddr(t, smsc.Addr())
			clk := clock.NewFake(time.Date(2027, 3, 10, 9, 0, 0, 0, time.UTC))
			s := sms.New(db, clk, config.SMS{Host: host, Port: port, SystemID: "kabinet", Password: "pw", SourceAddr: "SetRegion",
				Window: 5, Timeout: 2 * time.Second}, slog.New(slog.DiscardHandler))
			defer s.Close()
			ctx := context.Background()
			text := "Оплата 500,00 ₽ зачислена на лицевой счёт 100123. Баланс: 350,00 ₽. Спасибо, что вы с нами! Сеть-Регион"
			ids, err := s.Send(ctx, sms.Message{Ref: "q1", Phone: "8 (910) 123-45-67", Text: text})
			if err != nil || len(ids) != 2 {
				t.Fatalf("send: %v %v", ids, err)
			}
			if got := smsc.Texts("79101234567"); len(got) != 1 || got[0] != text {
				t.Errorf("SMSC got %q", got)
			}
			if _, err := s.Send(ctx, sms.Message{Ref: "q2", Phone: "+7 999 000-00-00", Text: "Test"}); err != nil {
				t.Fatal(err)
			}
			wait := func(ref, want string) {
				t.Helper()
				deadline := time.Now().Add(3 * time.Second)
				for {
					d, err := s.DeliveryOf(ctx, ref)
					if err != nil {
						t.Fatal(err)
					}
					if d.State == want {
						return
					}
					if time.Now().After(deadline) {
						t.Fatalf("%s is %q (%d parts), want %q", ref, d.State, d.Parts, want)
					}
					time.Sleep(10 * time.Millisecond)
				}
			}
			wait("q1", sms.StateDelivered)
			wait("q2", sms.StateFailed)
			if d, _ := s.DeliveryOf(ctx, "never"); d.State != sms.StateUnknown {
				t.Errorf("unknown message: %+v", d)
			}
			before := len(smsc.Messages())
			_, err = s.Send(ctx, sms.Message{Ref: "q3", AccountID: 0, Phone: "", Text: "x"})
			if !errors.Is(err, phone.ErrMissing) || !sms.Permanent(err) {
				t.Errorf("no phone: %v", err)
			}
			if len(smsc.Messages()) != before {
				t.Error("a message without a phone reached the SMSC")
			}
			smsc.Throttle(1)
			if _, err := s.Send(ctx, sms.Message{Ref: "q4", Phone: "9101234567", Text: "x"}); err == nil || sms.Permanent(err) {
				t.Errorf("throttled: %v, want a temporary error", err)
			}

			// A long message whose second part is refused is sent again by
			// the queue: only the parts missing go, cut as the first time,
			// and the phone puts one whole message together.
			long := strings.Repeat("Абонент, ваш договор продлён. ", 6) // 180 characters: 3 parts in UCS-2
			before = len(smsc.Messages())
			smsc.DropAfter(2)
			first, err := s.Send(ctx, sms.Message{Ref: "q5", Phone: "+7 910 555-00-00", Text: long})
			if len(first) != 1 || err == nil || sms.Permanent(err) {
				t.Fatalf("cut off after the first part: %v %v", first, err)
			}
			all, err := s.Send(ctx, sms.Message{Ref: "q5", Phone: "+7 910 555-00-00", Text: long})
			if err != nil || len(all) != 3 || all[0] != first[0] {
				t.Fatalf("sent again: %v %v (first part %v)", all, err, first)
			}
			if n := len(smsc.Messages()) - before; n != 3 {
				t.Errorf("the SMSC got %d parts for a 3-part message", n)
			}
			if got := smsc.Texts("79105550000"); len(got) != 1 || got[0] != long {
				t.Errorf("the phone shows %q", got)
			}
			if again, err := s.Send(ctx, sms.Message{Ref: "q5", Phone: "+7 910 555-00-00", Text: long}); err != nil || len(again) != 3 || len(smsc.Messages())-before != 3 {
				t.Errorf("a message sent whole is not sent again: %v %v", again, err)
			}
		})
	}
}

func splitAddr(t *testing.T, addr string) (string, int) {
	host, p, err := net.SplitHostPort(addr)
	if err != nil {
		t.Fatal(err)
	}
	port, _ := strconv.Atoi(p)
	return host, port
}
