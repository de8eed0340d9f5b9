package main

import (
	"math/rand/v2"
	"strings"
	"testing"
)

// genderAgrees tells whether surname, first name and patronymic are of
// one gender; a woman's first name is told by its ending (true of every
// name the demo uses).
func genderAgrees(name string) bool {
	f := strings.Fields(name)
	if len(f) != 3 {
		return false
	}
	female := strings.HasSuffix(f[1], "а") || strings.HasSuffix(f[1], "я")
	return strings.HasSuffix(f[0], "а") == female && strings.HasSuffix(f[2], "на") == female && strings.HasSuffix(f[2], "ич") == !female
}

// TestDemoNamesAgreeInGender: Кузнецов Иван Сергеевич, Кузнецова Мария
// Сергеевна; never Кузнецов Мария Сергеевич.
func TestDemoNamesAgreeInGender(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	seen := map[bool]int{}
	for range 2000 {
		n := demoName(r)
		if !genderAgrees(n) {
			t.Fatalf("%q mixes genders", n)
		}
		seen[strings.HasSuffix(strings.Fields(n)[2], "на")]++
	}
	if seen[true] < 500 || seen[false] < 500 {
		t.Errorf("women %d, men %d of 2000", seen[true], seen[false])
	}
	for _, n := range []string{"Кузнецов Мария Сергеевич", "Кузнецова Иван Сергеевич", "Кузнецов Иван Сергеевна"} {
		if genderAgrees(n) {
			t.Errorf("the check passes %q", n)
		}
	}
}
