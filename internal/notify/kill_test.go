package notify_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/kabinet-billing/kabinet/internal/billing"
	"github.com/kabinet-billing/kabinet/internal/clock"
	"github.com/kabinet-billing/kabinet/internal/config"
	"github.com/kabinet-billing/kabinet/internal/notify"
	"github.com/kabinet-billing/kabinet/internal/notify/notifytest"
	"github.com/kabinet-billing/kabinet/internal/store"
)

// TestKill9WhileSending kills (SIGKILL) a process delivering Telegram
// messages to a fake Bot API while one request is under way — the fake has
// taken the message and not answered — then delivers the rest from a fresh
// process on the same database: every chat gets its message exactly once,
// and the one caught mid-send is marked interrupted, never sent again.
func TestKill9WhileSending(t *testing.T) {
	if os.Getenv("KABINET_KILL9_DB") != "" {
		kill9Child()
		return
	}
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "kill.db")
	db, err := store.Open(ctx, "sqlite:"+path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	api, err := notifytest.StartBotAPI("42:kill")
	if err != nil {
		t.Fatal(err)
	}
	defer api.Close()
	held := make(chan struct{})
	api.Hold = func(chat string) bool {
		if chat == "1004" {
			close(held)
			return true
		}
		return false
	}
	n := notify.New(db, clock.System, nil, billing.New(db, clock.System, billing.DefaultRules()), notify.Options{Log: quiet})
	const total = 12
	var msgs []notify.Outgoing
	for i := range total {
		msgs = append(msgs, notify.Outgoing{Channel: notify.ChannelTelegram, Kind: notify.KindBroadcast, To: fmt.Sprint(1000 + i), Body: fmt.Sprintf("m%d", i), Key: fmt.Sprintf("k%d", i)})
	}
	if err := db.Write(ctx, func(tx *store.Tx) error { _, err := n.QueueTx(ctx, tx, msgs); return err }); err != nil {
		t.Fatal(err)
	}

	child := exec.Command(os.Args[0], "-test.run=^TestKill9WhileSending$")
	child.Env = append(os.Environ(), "KABINET_KILL9_DB="+path, "KABINET_KILL9_API="+api.URL)
	child.Stdout, child.Stderr = os.Stderr, os.Stderr
	if err := child.Start(); err != nil {
		t.Fatal(err)
	}
	select {
	case <-held:
	case <-time.After(60 * time.Second):
		child.Process.Kill()
		t.Fatal("the child never reached the held message")
	}
	if err := child.Process.Kill(); err != nil { // SIGKILL: no deferred code, no answer recorded
		t.Fatal(err)
	}
	child.Wait()
	before := len(api.Sent())

	// The restarted instance, after the send lease.
	clk := clock.NewFake(time.Now().Add(11 * time.Minute))
	n2 := notify.New(db, clk, nil, billing.New(db, clk, billing.DefaultRules()), notify.Options{Log: quiet})
	n2.AddChannel(notify.Channel{Name: notify.ChannelTelegram, Sender: &notifytest.BotSender{URL: api.URL, Token: api.Token}})
	if _, _, err := n2.Deliver(ctx); err != nil {
		t.Fatal(err)
	}
	got := map[string]int{}
	for _, d := range api.Sent() {
		got[d.ChatID]++
	}
	for i := range total {
		if k := got[fmt.Sprint(1000+i)]; k != 1 {
			t.Errorf("chat %d got %d messages, want 1", 1000+i, k)
		}
	}
	if before != 5 {
		t.Errorf("%d delivered before the kill, want 5 (one at a time, the fifth held)", before)
	}
	q, err := n2.Messages(ctx, notify.Filter{Channel: notify.ChannelTelegram})
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range q {
		want := notify.StatusSent
		if m.To == "1004" {
			want = notify.StatusFailed
		}
		if m.Status != want {
			t.Errorf("message to %s: %s %q, want %s", m.To, m.Status, m.LastError, want)
		}
	}
}

// kill9Child delivers the queue until it is killed.
func kill9Child() {
	ctx := context.Background()
	db, err := store.Open(ctx, "sqlite:"+os.Getenv("KABINET_KILL9_DB"))
	if err != nil {
		panic(err)
	}
	n := notify.New(db, clock.System, nil, billing.New(db, clock.System, billing.DefaultRules()), notify.Options{Provider: config.Default().Provider, Log: quiet})
	n.AddChannel(notify.Channel{Name: notify.ChannelTelegram, Sender: &notifytest.BotSender{URL: os.Getenv("KABINET_KILL9_API"), Token: "42:kill"}})
	n.Deliver(ctx)
	select {} // held: wait for the kill
}
