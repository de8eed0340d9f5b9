package platform

import "testing"

func TestDialable(t *testing.T) {
	for in, want := range map[string]string{
		"+7 (4822) 55-00-00": "+74822550000",
		"8 800 555-35-35":    "88005553535",
		"":                   "",
		"тел. 112":           "112",
	} {
		if got := dialable(in); got != want {
			t.Errorf("dialable(%q) = %q, want %q", in, got, want)
		}
	}
}
