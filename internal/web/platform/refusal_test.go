package platform

import (
	"errors"
	"fmt"
	"testing"
	"testing/fstest"

	"github.com/kabinet-billing/kabinet/internal/derrors"
)

func TestRefusal(t *testing.T) {
	fs := fstest.MapFS{}
	for _, l := range Langs {
		fs["translations/"+l+".toml"] = &fstest.MapFile{Data: []byte(`
"x.error.funds" = "funds"
"x.error.invalid" = "invalid"
"x.error.not_found" = "not found"
`)}
	}
	i18n, err := NewI18n(fs, "translations")
	if err != nil {
		t.Fatal(err)
	}
	funds := derrors.New(derrors.Conflict, "funds", "not enough money")
	for _, c := range []struct {
		name   string
		err    error
		status int
		id     string
	}{
		{"own code", fmt.Errorf("connect: %w", funds), 409, "x.error.funds"},
		{"code not translated: the kind's", derrors.Invalidf("email", "email", "bad"), 422, "x.error.invalid"},
		{"kind only", fmt.Errorf("tariff 7: %w", derrors.NotFound), 404, "x.error.not_found"},
		{"kind without a message", derrors.New(derrors.Conflict, "same", "same tariff"), 409, ""},
		{"forbidden", derrors.Forbidden, 403, ""},
		{"unavailable, not translated here", derrors.Unavailable, 503, ""},
		{"unexpected", errors.New("disk on fire"), 0, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			status, id := i18n.Refusal(c.err, "x.error.")
			if status != c.status || id != c.id {
				t.Errorf("Refusal = %d %q, want %d %q", status, id, c.status, c.id)
			}
		})
	}
}
