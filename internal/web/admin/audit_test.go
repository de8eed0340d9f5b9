package admin

import (
	"reflect"
	"testing"
)

func TestChanges(t *testing.T) {
	for _, tc := range []struct {
		name, before, after string
		want                []auditChange
	}{
		{"a correction", `{"balance":"-500.00","status":"active"}`, `{"amount":"10.00","balance":"-490.00","status":"active","txn":2}`,
			[]auditChange{{"amount", "", "10.00"}, {"balance", "-500.00", "-490.00"}, {"txn", "", "2"}}},
		{"created", ``, `{"login":"cashier","role":"cashier","email":""}`,
			[]auditChange{{"login", "", "cashier"}, {"role", "", "cashier"}}},
		{"deleted", `{"Title":"Работы"}`, ``, []auditChange{{"title", "Работы", ""}}},
		{"Go field names", `{"NameEn":"Home","DownKbps":100000}`, `{"NameEn":"Home 2","DownKbps":100000}`, []auditChange{{"name_en", "Home", "Home 2"}}},
		{"not objects", `[1]`, `2`, []auditChange{{"", "[1]", "2"}}},
		{"nothing", ``, ``, nil},
	} {
		if got := changes(tc.before, tc.after); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%s: %+v, want %+v", tc.name, got, tc.want)
		}
	}
}
