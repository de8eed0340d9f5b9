package radius

import (
	"context"
	"net"
	"sync"
	"testing"
	"time"

	"layeh.com/radius"
	"layeh.com/radius/vendors/mikrotik"
)

// fakeNASCoA is a NAS's CoA listener driven by a script.
type fakeNASCoA struct {
	conn *net.UDPConn
	mu   sync.Mutex
	got  []*radius.Packet
	// answer decides the reply; ok=false stays silent.
	answer func(n int, p *radius.Packet) (code radius.Code, cause uint32, ok bool)
}

func startFakeNAS(t *testing.T, answer func(n int, p *radius.Packet) (radius.Code, uint32, bool)) (*fakeNASCoA, NAS) {
	f := &fakeNASCoA{conn: listenLoopback(t), answer: answer}
	go func() {
		buf := make([]byte, 4096)
		for {
			n, from, err := f.conn.ReadFromUDPAddrPort(buf)
			if err != nil {
				return
			}
			raw := buf[:n]
			if !requestAuthOK(raw, []byte(testSecret)) {
				continue
			}
			off, err := findMA(raw)
			if err != nil || off < 0 || !verifyMA(raw, off, &[16]byte{}, []byte(testSecret)) {
				continue
			}
			p, err := radius.Parse(raw, []byte(testSecret))
			if err != nil {
				continue
			}
			f.mu.Lock()
			f.got = append(f.got, p)
			count := len(f.got)
			f.mu.Unlock()
			code, cause, ok := f.answer(count, p)
			if !ok {
				continue
			}
			resp := p.Response(code)
			if cause != 0 {
				resp.Add(attrErrorCause, radius.NewInteger(cause))
			}
			b, _ := encodeResponse(resp)
			f.conn.WriteToUDPAddrPort(b, from)
		}
	}()
	t.Cleanup(func() { f.conn.Close() })
	port := f.conn.LocalAddr().(*net.UDPAddr).Port
	return f, NAS{ID: 1, Name: "fake", Addr: nasAddr, Secret: testSecret, Kind: KindMikrotik, CoAPort: port}
}

func (f *fakeNASCoA) received() []*radius.Packet {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]*radius.Packet(nil), f.got...)
}

func newCoA(results *[]CoAResult) *CoAClient {
	return NewCoAClient(CoAConfig{Timeout: 30 * time.Millisecond, Attempts: 3, Logger: quietLog(),
		OnResult: func(r CoAResult) { *results = append(*results, r) }})
}

func TestCoAUpdate(t *testing.T) {
	tests := []struct {
		name      string
		answer    func(n int, p *radius.Packet) (radius.Code, uint32, bool)
		wantOK    bool
		wantCodes []radius.Code // what the NAS received, in order
		fellBack  bool
		failures  int
	}{
		{"ack", func(int, *radius.Packet) (radius.Code, uint32, bool) { return radius.CodeCoAACK, 0, true },
			true, []radius.Code{radius.CodeCoARequest}, false, 0},
		{"nak falls back to disconnect", func(_ int, p *radius.Packet) (radius.Code, uint32, bool) {
			if p.Code == radius.CodeCoARequest {
				return radius.CodeCoANAK, ErrorCauseUnsupported, true
			}
			return radius.CodeDisconnectACK, 0, true
		}, true, []radius.Code{radius.CodeCoARequest, radius.CodeDisconnectRequest}, true, 1},
		{"session gone needs nothing", func(int, *radius.Packet) (radius.Code, uint32, bool) {
			return radius.CodeCoANAK, ErrorCauseSessionNotFound, true
		}, false, []radius.Code{radius.CodeCoARequest}, false, 0},
		{"retries after silence", func(n int, _ *radius.Packet) (radius.Code, uint32, bool) { return radius.CodeCoAACK, 0, n == 3 },
			true, []radius.Code{radius.CodeCoARequest, radius.CodeCoARequest, radius.CodeCoARequest}, false, 0},
		{"gives up", func(int, *radius.Packet) (radius.Code, uint32, bool) { return 0, 0, false },
			false, []radius.Code{radius.CodeCoARequest, radius.CodeCoARequest, radius.CodeCoARequest}, false, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, nas := startFakeNAS(t, tt.answer)
			var results []CoAResult
			c := newCoA(&results)
			ref := SessionRef{NAS: nas, SessionID: "81e00001", Login: "bob", FramedIP: nasAddr}
			r := c.Update(context.Background(), ref, bob)
			if r.OK != tt.wantOK || r.FellBack != tt.fellBack {
				t.Errorf("result = %+v", r)
			}
			got := f.received()
			if len(got) != len(tt.wantCodes) {
				t.Fatalf("NAS received %d packets, want %d", len(got), len(tt.wantCodes))
			}
			for i, p := range got {
				if p.Code != tt.wantCodes[i] {
					t.Errorf("packet %d = %v, want %v", i, p.Code, tt.wantCodes[i])
				}
				if string(p.Get(attrAcctSessionID)) != "81e00001" || string(p.Get(attrUserName)) != "bob" {
					t.Errorf("packet %d does not identify the session", i)
				}
			}
			if got[0].Code == radius.CodeCoARequest {
				if rl := mikrotik.MikrotikRateLimit_GetString(got[0]); rl != "128k/128k" {
					t.Errorf("CoA Rate-Limit = %q", rl)
				}
				if al := mikrotik.MikrotikAddressList_GetString(got[0]); al != "debtors" {
					t.Errorf("CoA Address-List = %q", al)
				}
			}
			if n := len(c.Failures()); n != tt.failures {
				t.Errorf("failures = %d, want %d", n, tt.failures)
			}
		})
	}
}

func TestDisconnect(t *testing.T) {
	f, nas := startFakeNAS(t, func(int, *radius.Packet) (radius.Code, uint32, bool) { return radius.CodeDisconnectACK, 0, true })
	var results []CoAResult
	c := newCoA(&results)
	r := c.Disconnect(context.Background(), SessionRef{NAS: nas, SessionID: "x"})
	if !r.OK || r.Action != ActionDisconnect || len(f.received()) != 1 || len(results) != 1 {
		t.Fatalf("result = %+v", r)
	}
	// Generic NAS kinds are disconnected instead of changed.
	nas.Kind = KindGeneric
	r = c.Update(context.Background(), SessionRef{NAS: nas, SessionID: "x"}, alice)
	if !r.OK || !r.FellBack || f.received()[1].Code != radius.CodeDisconnectRequest {
		t.Fatalf("generic update = %+v", r)
	}
}

func TestCoAIgnoresForgedAnswer(t *testing.T) {
	f, nas := startFakeNAS(t, func(int, *radius.Packet) (radius.Code, uint32, bool) { return radius.CodeCoAACK, 0, true })
	nas.Secret = "different" // our side signs with another secret: answers fail verification
	_ = f
	var results []CoAResult
	c := newCoA(&results)
	r := c.Update(context.Background(), SessionRef{NAS: nas, SessionID: "x"}, alice)
	if r.OK {
		t.Fatal("accepted an answer we cannot authenticate")
	}
}
