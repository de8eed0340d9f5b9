package portal_test

import (
	"io"
	"net/http"
	"testing"

	"github.com/kabinet-billing/kabinet/internal/web/webtest"
)

// BenchmarkHome is the logged-in home page through the whole stack
// (session lookup, account, summary, news, template), over loopback HTTP.
// The wrk figures with 100,000 accounts belong in bench/portal.
func BenchmarkHome(b *testing.B) {
	e := webtest.New(b)
	c := e.Login("alice")
	req, _ := http.NewRequest("GET", e.TS.URL+"/", nil)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			res, err := c.HTTP.Do(req.Clone(req.Context()))
			if err != nil || res.StatusCode != 200 {
				b.Fatal(err, res.StatusCode)
			}
			io.Copy(io.Discard, res.Body)
			res.Body.Close()
		}
	})
}
