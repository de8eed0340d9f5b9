package documents

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/kabinet-billing/kabinet/internal/money"
)

// InWords writes an amount as Russian accounting documents do under the
// total: roubles in words, kopecks in digits, the first letter capital —
// "Одна тысяча двести рублей 00 копеек". A negative amount starts with
// "Минус".
func InWords(a money.Amount) string {
	v := int64(a)
	neg := v < 0
	if neg {
		v = -v
	}
	rub, kop := v/100, v%100
	var b strings.Builder
	if neg {
		b.WriteString("минус ")
	}
	b.WriteString(numberWords(rub, false))
	b.WriteByte(' ')
	b.WriteString(plural(rub, "рубль", "рубля", "рублей"))
	fmt.Fprintf(&b, " %02d %s", kop, plural(kop, "копейка", "копейки", "копеек"))
	return capitalise(b.String())
}

var (
	unitsMasc = []string{"", "один", "два", "три", "четыре", "пять", "шесть", "семь", "восемь", "девять"}
	unitsFem  = []string{"", "одна", "две", "три", "четыре", "пять", "шесть", "семь", "восемь", "девять"}
	teens     = []string{"десять", "одиннадцать", "двенадцать", "тринадцать", "четырнадцать", "пятнадцать",
		"шестнадцать", "семнадцать", "восемнадцать", "девятнадцать"}
	tens     = []string{"", "", "двадцать", "тридцать", "сорок", "пятьдесят", "шестьдесят", "семьдесят", "восемьдесят", "девяносто"}
	hundreds = []string{"", "сто", "двести", "триста", "четыреста", "пятьсот", "шестьсот", "семьсот", "восемьсот", "девятьсот"}
)

// scales are the groups of three digits above the units: their gender and
// the three forms after 1, 2–4 and 5–20.
var scales = []struct {
	fem            bool
	one, few, many string
}{
	{true, "тысяча", "тысячи", "тысяч"},
	{false, "миллион", "миллиона", "миллионов"},
	{false, "миллиард", "миллиарда", "миллиардов"},
	{false, "триллион", "триллиона", "триллионов"},
	{false, "квадриллион", "квадриллиона", "квадриллионов"},
	{false, "квинтиллион", "квинтиллиона", "квинтиллионов"},
}

// numberWords writes n ≥ 0 in words; fem picks the feminine "одна, две"
// for the units (the rouble is masculine).
func numberWords(n int64, fem bool) string {
	if n == 0 {
		return "ноль"
	}
	var groups []int64
	for n > 0 {
		groups = append(groups, n%1000)
		n /= 1000
	}
	var words []string
	for i := len(groups) - 1; i >= 0; i-- {
		g := groups[i]
		if g == 0 {
			continue
		}
		if i == 0 {
			words = append(words, triple(g, fem)...)
			continue
		}
		s := scales[i-1]
		words = append(words, triple(g, s.fem)...)
		words = append(words, plural(g, s.one, s.few, s.many))
	}
	return strings.Join(words, " ")
}

// triple writes 1..999.
func triple(n int64, fem bool) []string {
	var w []string
	if h := n / 100; h > 0 {
		w = append(w, hundreds[h])
	}
	t, u := n%100/10, n%10
	switch {
	case t == 1:
		w = append(w, teens[u])
		return w
	case t > 1:
		w = append(w, tens[t])
	}
	if u > 0 {
		if fem {
			w = append(w, unitsFem[u])
		} else {
			w = append(w, unitsMasc[u])
		}
	}
	return w
}

// plural picks the Russian form for n: 1, 21 → one; 2–4, 22–24 → few;
// 0, 5–20, 25–30 → many.
func plural(n int64, one, few, many string) string {
	n %= 100
	if n >= 11 && n <= 14 {
		return many
	}
	switch n % 10 {
	case 1:
		return one
	case 2, 3, 4:
		return few
	}
	return many
}

func capitalise(s string) string {
	r, size := utf8.DecodeRuneInString(s)
	return string(unicode.ToUpper(r)) + s[size:]
}
