package payment

import (
	"context"
	"encoding/xml"
	"fmt"
	"github.com/kabinet-billing/kabinet/internal/store"
	"github.com/kabinet-billing/kabinet/internal/store/storetest"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
)

func osmpGet(t testing.TB, h http.Handler, query string) osmpXML {
	t.Helper()
	r := httptest.NewRequest(http.MethodGet, "/pay/osmp?"+query, nil)
	r.RemoteAddr = "192.0.2.1:1000"
	r.SetBasicAuth("sber", "p1")
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	var x osmpXML
	if err := xml.Unmarshal(w.Body.Bytes(), &x); err != nil {
		t.Fatalf("%s: %d %v\n%s", query, w.Code, err, w.Body)
	}
	return x
}

func TestOSMPService(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		svc, _ := testServiceOn(t, db)
		active := addAccount(t, db, "100045", "active")
		addAccount(t, db, "100046", "closed")
		limited := addAccount(t, db, "100047", "limited")
		h, err := NewOSMPHandler(testOSMPChannels(), svc, nil)
		if err != nil {
			t.Fatal(err)
		}
		steps := []struct {
			query  string
			result OSMPResult
			prvTxn string // "" none, "same:N" = as step N's
		}{
			{"command=check&txn_id=1&account=100045&sum=10.00", OSMPOK, ""},
			{"command=check&txn_id=1&account=l100045&sum=10.00", OSMPOK, ""}, // by login
			{"command=check&txn_id=1&account=999&sum=10.00", OSMPAccountNotFound, ""},
			{"command=check&txn_id=1&account=100046&sum=10.00", OSMPAccountInactive, ""},
			{"command=pay&txn_id=10&txn_date=20261201120000&account=100045&sum=100.00", OSMPOK, "new"},
			{"command=pay&txn_id=10&txn_date=20261201120000&account=100045&sum=100.00", OSMPOK, "same:4"}, // retried
			{"command=pay&txn_id=10&txn_date=20261201120000&account=100045&sum=200.00", OSMPOther, ""},    // other sum
			{"command=pay&txn_id=10&txn_date=20261201120000&account=100047&sum=100.00", OSMPOther, ""},    // other account
			{"command=pay&txn_id=11&txn_date=20261201120000&account=100046&sum=100.00", OSMPAccountInactive, ""},
			{"command=pay&txn_id=12&txn_date=20261201120000&account=nobody&sum=100.00", OSMPAccountNotFound, ""},
			{"command=pay&txn_id=13&txn_date=20261201120000&account=l100047&sum=50.00", OSMPOK, "new"},
			// txn_id is a number: leading zeros name the same payment.
			{"command=pay&txn_id=0010&txn_date=20261201120000&account=100045&sum=100.00", OSMPOK, "same:4"},
			{"command=pay&txn_id=00013&txn_date=20261201120000&account=l100047&sum=50.00", OSMPOK, "same:10"},
		}
		var prv []string
		for i, st := range steps {
			x := osmpGet(t, h, st.query)
			prv = append(prv, x.PrvTxn)
			if OSMPResult(x.Result) != st.result {
				t.Errorf("step %d %s: result %d, want %d", i, st.query, x.Result, st.result)
			}
			switch {
			case st.prvTxn == "" && x.PrvTxn != "":
				t.Errorf("step %d: prv_txn %q on a failure or check", i, x.PrvTxn)
			case st.prvTxn == "new" && x.PrvTxn == "":
				t.Errorf("step %d: no prv_txn", i)
			case len(st.prvTxn) > 5 && st.prvTxn[:5] == "same:":
				n, _ := strconv.Atoi(st.prvTxn[5:])
				if x.PrvTxn != prv[n] {
					t.Errorf("step %d: prv_txn %q, first answer had %q", i, x.PrvTxn, prv[n])
				}
			}
		}
		// The contract closes; the bank retries a payment made before that.
		if err := db.Write(context.Background(), func(tx *store.Tx) error {
			_, err := tx.Exec(context.Background(), `UPDATE accounts SET status = 'closed' WHERE id = ?`, active)
			return err
		}); err != nil {
			t.Fatal(err)
		}
		if x := osmpGet(t, h, "command=pay&txn_id=10&txn_date=20261201120000&account=100045&sum=100.00"); x.Result != 0 || x.PrvTxn != prv[4] {
			t.Errorf("retry after closing: result %d, prv_txn %s, first %s", x.Result, x.PrvTxn, prv[4])
		}
		if x := osmpGet(t, h, "command=pay&txn_id=99&txn_date=20261201120000&account=100045&sum=100.00"); OSMPResult(x.Result) != OSMPAccountInactive {
			t.Errorf("new pay to a closed contract: %d", x.Result)
		}
		if b := balance(t, db, active); b != 10000 {
			t.Errorf("active balance %s", b)
		}
		if b := balance(t, db, limited); b != 5000 {
			t.Errorf("limited balance %s", b)
		}
		verifyBooks(t, db)

		// The database going away is a temporary error the bank retries.
		db.Close()
		if x := osmpGet(t, h, "command=pay&txn_id=20&txn_date=20261201120000&account=100045&sum=1.00"); OSMPResult(x.Result) != OSMPTemporary {
			t.Errorf("pay with the database down: %d", x.Result)
		}
		// On check too: 243 would be final and the bank would refuse the payment.
		if x := osmpGet(t, h, "command=check&txn_id=20&account=100045&sum=1.00"); OSMPResult(x.Result) != OSMPTemporary {
			t.Errorf("check with the database down: %d, want 1", x.Result)
		}
	})
}

// TestOSMPConcurrentRepeats: 1,000 concurrent pays, each txn_id sent several
// times, credit exactly the distinct ones.
func TestOSMPConcurrentRepeats(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		svc, _ := testServiceOn(t, db)
		acct := addAccount(t, db, "100045", "active")
		h, _ := NewOSMPHandler(testOSMPChannels(), svc, nil)
		const requests, distinct = 1000, 300
		var wg sync.WaitGroup
		prv := make([]string, requests)
		codes := make([]int, requests)
		sem := make(chan struct{}, 64)
		for i := range requests {
			wg.Add(1)
			go func() {
				defer wg.Done()
				sem <- struct{}{}
				defer func() { <-sem }()
				txn := i % distinct
				x := osmpGet(t, h, fmt.Sprintf("command=pay&txn_id=%d&txn_date=20261201120000&account=100045&sum=1.%02d", 1000+txn, txn%100))
				prv[i], codes[i] = x.PrvTxn, x.Result
			}()
		}
		wg.Wait()
		var want int64
		for txn := range distinct {
			want += 100 + int64(txn%100)
		}
		for i := range requests {
			if codes[i] != 0 || prv[i] != prv[i%distinct] {
				t.Fatalf("request %d: result %d, prv_txn %s vs first %s", i, codes[i], prv[i], prv[i%distinct])
			}
		}
		if b := balance(t, db, acct); int64(b) != want {
			t.Errorf("balance %s, want %d", b, want)
		}
		var n int
		db.QueryRow(context.Background(), `SELECT COUNT(*) FROM payments`).Scan(&n)
		if n != distinct {
			t.Errorf("%d payments, want %d", n, distinct)
		}
		verifyBooks(t, db)
	})
}

// TestOSMPTwoInstances: two Kabinet instances on one database (the
// PostgreSQL deployment; SQLite shares the file) receive the same txn_ids,
// as when a bank retries against the other instance: each credits once.
func TestOSMPTwoInstances(t *testing.T) {
	for _, engine := range []string{"sqlite", "postgres"} {
		t.Run(engine, func(t *testing.T) {
			ctx := context.Background()
			dsn := "sqlite:" + filepath.Join(t.TempDir(), "k.db")
			if engine == "postgres" {
				dsn = storetest.PostgresDSN(t)
			}
			var handlers []http.Handler
			var db *store.DB
			for range 2 {
				d, err := store.Open(ctx, dsn)
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { d.Close() })
				if _, err := d.Migrate(ctx); err != nil {
					t.Fatal(err)
				}
				svc, _ := testServiceOn(t, d)
				h, _ := NewOSMPHandler(testOSMPChannels(), svc, nil)
				handlers = append(handlers, h)
				db = d
			}
			acct := addAccount(t, db, "100045", "active")
			const requests, distinct = 400, 100
			var wg sync.WaitGroup
			for i := range requests {
				wg.Add(1)
				go func() {
					defer wg.Done()
					x := osmpGet(t, handlers[i%2], fmt.Sprintf("command=pay&txn_id=%d&txn_date=20261201120000&account=100045&sum=1.00", i%distinct))
					if x.Result != 0 {
						t.Errorf("request %d: result %d", i, x.Result)
					}
				}()
			}
			wg.Wait()
			if b := balance(t, db, acct); b != distinct*100 {
				t.Errorf("balance %s, want %d.00", b, distinct)
			}
			verifyBooks(t, db)
		})
	}
}

// TestOSMPPoisonPayment: a payment the database refuses fails alone, with
// the temporary code, and the payments batched with it are credited.
func TestOSMPPoisonPayment(t *testing.T) {
	svc, db, _ := testService(t)
	acct := addAccount(t, db, "100045", "active")
	if err := db.Write(context.Background(), func(tx *store.Tx) error {
		_, err := tx.Exec(context.Background(), `CREATE TRIGGER poison BEFORE INSERT ON payments WHEN NEW.external_id = '666'
			BEGIN SELECT RAISE(ABORT, 'poisoned'); END`)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	h, _ := NewOSMPHandler(testOSMPChannels(), svc, slog.New(slog.NewTextHandler(io.Discard, nil)))
	var wg sync.WaitGroup
	results := make([]int, 200)
	for i := range results {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i] = osmpGet(t, h, fmt.Sprintf("command=pay&txn_id=%d&txn_date=20261201120000&account=100045&sum=1.00", 600+i)).Result
		}()
	}
	wg.Wait()
	for i, r := range results {
		want := 0
		if 600+i == 666 {
			want = int(OSMPTemporary)
		}
		if r != want {
			t.Errorf("txn %d: result %d, want %d", 600+i, r, want)
		}
	}
	if b := balance(t, db, acct); b != 199*100 {
		t.Errorf("balance %s, want 199.00", b)
	}
	verifyBooks(t, db)
}
