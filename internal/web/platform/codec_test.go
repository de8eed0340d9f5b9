package platform

import (
	"reflect"
	"testing"
	"time"

	"github.com/alexedwards/scs/v2"
)

func TestSessionCodec(t *testing.T) {
	deadline := time.Date(2026, 11, 26, 12, 0, 0, 123, time.UTC)
	for _, values := range []map[string]any{
		{},
		{SessionAccount: int64(42), SessionLang: "en", SessionCSRF: "tok-en", SessionFlash: "Привет"},
		{"neg": int64(-7), "empty": ""},
	} {
		b, err := sessionCodec{}.Encode(deadline, values)
		if err != nil {
			t.Fatal(err)
		}
		d, got, err := sessionCodec{}.Decode(b)
		if err != nil || !d.Equal(deadline) || !reflect.DeepEqual(got, values) {
			t.Fatalf("round trip of %v: %v %v %v", values, d, got, err)
		}
	}
	// Sessions written by scs's gob codec (before this one) still load, and
	// a value of another type falls back to gob.
	old, _ := scs.GobCodec{}.Encode(deadline, map[string]any{SessionAccount: int64(7)})
	if d, got, err := (sessionCodec{}).Decode(old); err != nil || !d.Equal(deadline) || got[SessionAccount] != int64(7) {
		t.Fatalf("gob session: %v %v %v", d, got, err)
	}
	b, _ := sessionCodec{}.Encode(deadline, map[string]any{"f": 1.5})
	if _, got, err := (sessionCodec{}).Decode(b); err != nil || got["f"] != 1.5 {
		t.Fatalf("fallback: %v %v", got, err)
	}
	for _, bad := range [][]byte{{0, 'K', 'S', 1}, {0, 'K', 'S', 1, 200}, append(append([]byte{}, b[:0]...), 0, 'K', 'S', 1, 0, 1, 'k', 'x')} {
		if _, _, err := (sessionCodec{}).Decode(bad); err == nil {
			t.Errorf("decoded malformed %v", bad)
		}
	}
}
