package payment

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func TestDemoConfigRoutes(t *testing.T) {
	svc, _, clk := testService(t)
	setup, err := DemoConfig().Build(time.UTC, clk)
	if err != nil {
		t.Fatal(err)
	}
	if setup.Default != "sandbox" || len(setup.OSMP) != 3 || setup.OSMP[0].MaxSum != 1500000 {
		t.Fatalf("%+v", setup)
	}
	svc = NewService(svc.db, clk, svc.biller, setup.Processors, Options{PublicURL: "http://127.0.0.1:8080"})
	routes, err := svc.Routes(setup.OSMP, nil)
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	for pattern, h := range routes {
		mux.Handle(pattern, h)
	}
	for _, want := range []string{"GET /pay/osmp", "POST /pay/osmp", "POST /pay/card/sandbox/callback", "/pay/sandbox/"} {
		if routes[want] == nil {
			t.Errorf("no route %s in %v", want, routes)
		}
	}
	r := httptest.NewRequest(http.MethodGet, "/pay/osmp?command=check&txn_id=1&account=x&sum=1.00", nil)
	r.RemoteAddr = "127.0.0.1:5000"
	r.SetBasicAuth("vtb", "demo-vtb")
	w := httptest.NewRecorder()
	mux.ServeHTTP(w, r)
	if !strings.Contains(w.Body.String(), "<result>5</result>") {
		t.Errorf("demo OSMP check: %d %s", w.Code, w.Body)
	}
}

func TestConfigErrors(t *testing.T) {
	for name, c := range map[string]Config{
		"unknown kind":    {Processors: []ProcessorConfig{{Kind: "paypal", Secret: "x"}}},
		"no secret":       {Processors: []ProcessorConfig{{Kind: "chronopay", ProductID: "1"}}},
		"no product":      {Processors: []ProcessorConfig{{Kind: "chronopay", Secret: "x"}}},
		"default missing": {DefaultProcessor: "chronopay", AllowSandbox: true, Processors: []ProcessorConfig{{Kind: "sandbox", Secret: "x"}}},
		"twice":           {AllowSandbox: true, Processors: []ProcessorConfig{{Kind: "sandbox", Secret: "x"}, {Kind: "sandbox", Secret: "y"}}},
		"bad allow":       {OSMP: []OSMPChannelConfig{{Name: "a", Allow: []string{"bank.example"}}}},
		"bad sum":         {OSMP: []OSMPChannelConfig{{Name: "a", MinSum: "ten"}}},
	} {
		if _, err := c.Build(time.UTC, nil); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

// The sandbox credits payments without taking money: it runs only when the
// config allows it by name, and the setup says it runs.
func TestSandboxNeedsAllow(t *testing.T) {
	c := Config{Processors: []ProcessorConfig{{Kind: "sandbox", Secret: "x"}}}
	if _, err := c.Build(time.UTC, nil); err == nil || !strings.Contains(err.Error(), "allow_sandbox") {
		t.Errorf("sandbox without allow_sandbox: %v", err)
	}
	c.AllowSandbox = true
	s, err := c.Build(time.UTC, nil)
	if err != nil || !s.Sandbox {
		t.Errorf("sandbox allowed: %v, Sandbox=%v", err, s.Sandbox)
	}
	s, err = Config{Processors: []ProcessorConfig{{Kind: "chronopay", Secret: "x", ProductID: "1"}}}.Build(time.UTC, nil)
	if err != nil || s.Sandbox {
		t.Errorf("chronopay: %v, Sandbox=%v", err, s.Sandbox)
	}
}

func TestReconciliationText(t *testing.T) {
	var b bytes.Buffer
	rep := Reconciliation{Channel: "osmp:vtb", Lines: 2, Total: 1000, Matched: 1,
		Mismatches: []Mismatch{{Line: RegistryLine{Line: 3, TxnID: "7", Account: "1", Sum: 500}, Problem: "account not found"}}}
	rep.WriteText(&b)
	for _, want := range []string{"osmp:vtb: 2 payments, 10.00", "already received online: 1", "line 3: txn 7, account 1, 5.00: account not found"} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("report lacks %q:\n%s", want, b.String())
		}
	}
	b.Reset()
	p := TerminalProgress(&b)
	for i := 1; i <= 250; i++ {
		p(i, 250)
	}
	if b.String() != "\r100 / 250\r200 / 250\r250 / 250\n" {
		t.Errorf("progress %q", b.String())
	}
}

func TestRegistryColumns(t *testing.T) {
	c := Config{OSMP: []OSMPChannelConfig{{Name: "sberbank", Registry: RegistryColumns{Separator: ";", TxnID: 5, Date: 1, Account: 6, Sum: 8, DateLayout: "02-01-2006", TotalSum: 2}}}}
	setup, err := c.Build(time.UTC, nil)
	if err != nil {
		t.Fatal(err)
	}
	l := setup.Registries["sberbank"]
	want := RegistryLayout{Comma: ';', TxnID: 4, Date: 0, Account: 5, Sum: 7, DateLayout: "02-01-2006", TotalCount: 0, TotalSum: 1}
	if l != want {
		t.Fatalf("layout %+v, want %+v", l, want)
	}
	// A Sberbank-style line: date;time;branch;cashier;txn;account;name;sum
	reg := "01-12-2026;10-15-40;8626;1234;123456789;100045;Иванов И.И.;500,00\n=1;500,00\n"
	r, err := ParseRegistry(strings.NewReader(reg), l, time.UTC)
	if err != nil || len(r.Lines) != 1 || r.Lines[0].TxnID != "123456789" || r.Lines[0].Account != "100045" || r.Lines[0].Sum != 50000 {
		t.Fatalf("%+v %v", r, err)
	}
	for _, bad := range []RegistryColumns{{Separator: "::"}, {TxnID: -1}} {
		if _, err := registryLayout(bad); err == nil {
			t.Errorf("%+v accepted", bad)
		}
	}
}
