package payment

import (
	"bytes"
	"encoding/xml"
	"net/url"
	"testing"
	"time"
)

// FuzzOSMPParams: any query string parses to a request or a result code,
// never a panic, and an accepted request has a positive sum and a txn_id of
// digits only; every answer is well-formed XML.
func FuzzOSMPParams(f *testing.F) {
	for _, s := range []string{
		"command=check&txn_id=1234567&account=demo&sum=10.45",
		"command=pay&txn_id=1234567&txn_date=20261201120133&account=demo&sum=10.45",
		"command=pay&txn_id=99999999999999999999999&account=&sum=-1",
		"command=pay&txn_id=1&txn_date=2026&account=%00&sum=1e9",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		q, err := url.ParseQuery(raw)
		if err != nil {
			return
		}
		req, res, err := ParseOSMP(q, time.UTC)
		if err == nil {
			if req.Sum <= 0 {
				t.Fatalf("%q: accepted sum %v", raw, req.Sum)
			}
			for _, c := range req.TxnID {
				if c < '0' || c > '9' {
					t.Fatalf("%q: accepted txn_id %q", raw, req.TxnID)
				}
			}
		}
		out := MarshalOSMP(OSMPResponse{TxnID: q.Get("txn_id"), Result: res, Sum: req.Sum})
		if err := xml.Unmarshal(out, new(struct{})); err != nil {
			t.Fatalf("%q: answer is not XML: %v\n%s", raw, err, out)
		}
	})
}

// FuzzRegistry: any file is parsed or refused with an error, never a panic,
// and a parsed registry's lines sum to its totals line.
func FuzzRegistry(f *testing.F) {
	f.Add([]byte("1001;01.12.2026 10:00:00;demo;500.00\n1002;01.12.2026 11:00:00;user0002;250.50\nИТОГО;2;750.50\n"))
	f.Add([]byte("\xc8\xd2\xce\xc3\xce;0;0.00\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		reg, err := ParseRegistry(bytes.NewReader(b), DefaultRegistryLayout, time.UTC)
		if err != nil || reg == nil {
			return
		}
		var sum int64
		for _, l := range reg.Lines {
			sum += int64(l.Sum)
		}
		if reg.Count != len(reg.Lines) || int64(reg.Total) != sum {
			t.Fatalf("accepted a registry whose totals do not match: %d lines %d, totals %d %v", len(reg.Lines), sum, reg.Count, reg.Total)
		}
	})
}
