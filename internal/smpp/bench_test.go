package smpp_test

import (
	"context"
	"testing"

	"github.com/kabinet-billing/kabinet/internal/smpp"
	"github.com/kabinet-billing/kabinet/internal/smpp/smsctest"
)

// BenchmarkSubmit: one-part Cyrillic SMS through one session to the
// simulator on loopback, 10 at once (the default window): what the SMS
// channel can hand over when the aggregator sets no rate.
func BenchmarkSubmit(b *testing.B) {
	smsc := smsctest.Start(b, "kabinet", "pw")
	s, err := smpp.Dial(context.Background(), smpp.Config{Addr: smsc.Addr(), SystemID: "kabinet", Password: "pw", Source: "SetRegion", Transmitter: true})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	b.SetParallelism(10)
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := s.Submit(context.Background(), "79101234567", "Платёж 500,00 ₽ зачислен. Баланс 350,00 ₽."); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

func BenchmarkSplit(b *testing.B) {
	text := "Уважаемый абонент! Баланс лицевого счёта 123456: −150,00 ₽. Пополните счёт до 1 апреля, чтобы скорость не ограничили."
	b.ReportAllocs()
	for b.Loop() {
		if _, err := smpp.Split(text, 1); err != nil {
			b.Fatal(err)
		}
	}
}
