package admin_test

import (
	"html"
	"net/http"
	"strings"
	"testing"

	"github.com/kabinet-billing/kabinet/internal/operator"
)

// The reports and the audit log read their days with the one period parser,
// as the statements and the reconciliation act do: both spellings of a day
// are accepted, and a mistake is said on the page, in the operator's
// language, instead of being dropped silently.
func TestPagesReadPeriodsAlike(t *testing.T) {
	e := newEnv(t, nil)
	c := e.login(operator.RoleAdmin)
	for _, tc := range []struct {
		path   string
		status int
		says   string
	}{
		{"/admin/reports?from=2026-03-01&to=2026-03-15", http.StatusOK, `value="2026-03-01"`},
		{"/admin/reports?from=01.03.2026&to=15.03.2026", http.StatusOK, `value="2026-03-15"`},
		{"/admin/reports?from=2026-13-01", http.StatusUnprocessableEntity, "Дата «с» не распознана"},
		{"/admin/reports?from=2026-03-15&to=2026-03-01", http.StatusUnprocessableEntity, "Дата «по» должна быть не раньше даты «с»"},
		{"/admin/reports/payments.csv?to=1999-01-01", http.StatusUnprocessableEntity, "год должен быть от 2000 до 2099"},
		{"/admin/audit?from=15.03.2026", http.StatusOK, `value="15.03.2026"`},
		{"/admin/audit?to=вчера", http.StatusUnprocessableEntity, "Дата «по» не распознана"},
	} {
		code, body := c.get(tc.path)
		if code != tc.status || !strings.Contains(html.UnescapeString(body), tc.says) {
			t.Errorf("%s: %d, want %d saying %q", tc.path, code, tc.status, tc.says)
		}
	}
}
