package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/kabinet-billing/kabinet/internal/clock"
	"github.com/kabinet-billing/kabinet/internal/notify"
	"github.com/kabinet-billing/kabinet/internal/smpp/smsctest"
	"github.com/kabinet-billing/kabinet/internal/store"
	"github.com/kabinet-billing/kabinet/internal/telegram/telegramtest"
)

// TestQueueChannels: with [telegram] and [sms] set, serve's queue sends
// Telegram messages through the bot (a blocked chat fails for good, flood
// control waits) and SMS through SMPP (a missing phone fails for good).
func TestQueueChannels(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	fake := telegramtest.Start(t)
	smsc := smsctest.Start(t, "kabinet", "pw")
	host, port, _ := net.SplitHostPort(smsc.Addr())
	cfg := filepath.Join(dir, "kabinet.toml")
	text := fmt.Sprintf("[telegram]\ntoken = %q\napi_url = %q\n[sms]\nhost = %q\nport = %s\nsystem_id = \"kabinet\"\npassword = \"pw\"\nsource_addr = \"SetRegion\"\n",
		telegramtest.Token, fake.URL(), host, port)
	if err := os.WriteFile(cfg, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	clk := clock.NewFake(time.Date(2027, 3, 10, 9, 0, 0, 0, time.UTC))
	e := &env{dsn: "sqlite:" + filepath.Join(dir, "k.db"), cfgPath: cfg, stdout: io.Discard, stderr: io.Discard, clock: clk}
	if err := e.open(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.db.Close() })
	a, err := buildApp(ctx, e)
	if err != nil {
		t.Fatal(err)
	}
	defer a.sms.Close()
	for _, ch := range []string{notify.ChannelTelegram, notify.ChannelSMS} {
		if !a.mail.HasChannel(ch) {
			t.Fatalf("the queue has no %s channel", ch)
		}
	}
	fake.Block(666)
	err = e.db.Write(ctx, func(tx *store.Tx) error {
		_, err := a.mail.QueueTx(ctx, tx, []notify.Outgoing{
			{Channel: notify.ChannelTelegram, Kind: "broadcast", To: "4242", Body: "Плановые работы 20 апреля", Key: "t1"},
			{Channel: notify.ChannelTelegram, Kind: "broadcast", To: "666", Body: "x", Key: "t2"},
			{Channel: notify.ChannelSMS, Kind: "broadcast", To: "8 910 123-45-67", Body: "Плановые работы 20 апреля", Key: "s1"},
			{Channel: notify.ChannelSMS, Kind: "broadcast", To: "", Body: "x", Key: "s2"},
		})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	status := map[string]string{}
	for range 50 {
		a.mail.Deliver(ctx)
		qs, err := a.mail.Messages(ctx, notify.Filter{})
		if err != nil {
			t.Fatal(err)
		}
		settled := 0
		for _, q := range qs {
			status[q.Channel+" "+q.To] = q.Status
			if q.Status == "sent" || q.Status == "failed" {
				settled++
			}
		}
		if settled == 4 {
			break
		}
		clk.Advance(time.Second) // the channels' pacing runs on the queue's clock
		time.Sleep(20 * time.Millisecond)
	}
	for k, want := range map[string]string{"telegram 4242": "sent", "telegram 666": "failed", "sms 8 910 123-45-67": "sent", "sms ": "failed"} {
		if status[k] != want {
			t.Errorf("%s is %q, want %q", k, status[k], want)
		}
	}
	if got := fake.Sent(4242); len(got) != 1 || got[0].Text != "Плановые работы 20 апреля" {
		t.Errorf("telegram got %+v", got)
	}
	if got := smsc.Texts("79101234567"); len(got) != 1 || got[0] != "Плановые работы 20 апреля" {
		t.Errorf("the SMSC got %q", got)
	}
}
