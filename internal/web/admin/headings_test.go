package admin_test

import (
	"strings"
	"testing"

	"github.com/kabinet-billing/kabinet/internal/operator"
)

// TestHeadingsNameWhatTheyHead: tariffs, cities and traffic classes have a
// name, not a "full name / title"; people have a full name.
func TestHeadingsNameWhatTheyHead(t *testing.T) {
	e := newEnv(t, nil)
	c := e.login(operator.RoleAdmin)
	for _, tc := range []struct {
		page, want, not string
	}{
		{"/admin/catalogue", "<th>Название</th>", "ФИО"},
		{"/admin/traffic-classes", "<th>Название</th>", "ФИО"},
		{"/admin/operators", "<th>ФИО</th>", "ФИО / название"},
		{"/admin/subscribers/new", "ФИО <input", "ФИО / название"},
	} {
		_, body := c.get(tc.page)
		if !strings.Contains(body, tc.want) || strings.Contains(body, tc.not) {
			t.Errorf("%s: want %q and no %q", tc.page, tc.want, tc.not)
		}
	}
}
