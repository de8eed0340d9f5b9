package documents

import (
	"strconv"
	"strings"

	"github.com/signintech/gopdf"

	"github.com/kabinet-billing/kabinet/internal/money"
)

const (
	regular = "dejavu"
	bold    = "dejavu-bold"
)

// sheet lays a document out on gopdf pages, top to bottom, in points.
type sheet struct {
	pdf                      *gopdf.GoPdf
	left, right, top, bottom float64
	y                        float64
	face                     string
	size                     float64
	onPage                   func() // draws what each new page repeats (a table's header)
}

func (c *sheet) width() float64 { return c.right - c.left }

func (c *sheet) font(face string, size float64) {
	c.face, c.size = face, size
	c.pdf.SetFont(face, "", size)
}

// lineH is the height of a line of text at the current size.
func (c *sheet) lineH() float64 { return c.size * 1.25 }

// text writes s in the box x..x+w at the line starting at y, aligned.
func (c *sheet) text(x, y, w float64, s string, align int) {
	c.pdf.SetXY(x, y)
	c.pdf.CellWithOption(&gopdf.Rect{W: w, H: c.lineH()}, s, gopdf.CellOption{Align: align | gopdf.Top})
}

// measure is s's width at the current font.
func (c *sheet) measure(s string) float64 {
	w, err := c.pdf.MeasureTextWidth(s)
	if err != nil {
		return float64(len([]rune(s))) * c.size * 0.6
	}
	return w
}

// wrap breaks s into lines no wider than w at the current font: at spaces,
// and inside a word only when the word alone is wider. Each word is
// measured once and the line's width summed (the fonts are drawn without
// kerning, so widths add up): measuring the growing line again for every
// word took a sixth of a document's CPU (bench/documents, 2,000 documents).
func (c *sheet) wrap(s string, w float64) []string {
	var lines []string
	space := c.measure(" ")
	for _, para := range strings.Split(s, "\n") {
		line, lineW := "", 0.0
		for _, word := range strings.Fields(para) {
			wordW := c.measure(word)
			if line == "" && wordW <= w {
				line, lineW = word, wordW
				continue
			}
			if line != "" && lineW+space+wordW <= w {
				line, lineW = line+" "+word, lineW+space+wordW
				continue
			}
			if line != "" {
				lines = append(lines, line)
				line, lineW = "", 0
			}
			if wordW <= w {
				line, lineW = word, wordW
				continue
			}
			// A word wider than the box is cut.
			for _, r := range word {
				rw := c.measure(string(r))
				if lineW+rw > w && line != "" {
					lines = append(lines, line)
					line, lineW = "", 0
				}
				line, lineW = line+string(r), lineW+rw
			}
		}
		lines = append(lines, line)
	}
	return lines
}

// para writes s wrapped to x..x+w from the current y and moves y below it.
func (c *sheet) para(x, w float64, s string, align int) {
	for _, l := range c.wrap(s, w) {
		c.need(c.lineH())
		c.text(x, c.y, w, l, align)
		c.y += c.lineH()
	}
}

// need starts a new page unless h fits above the bottom.
func (c *sheet) need(h float64) {
	if c.y+h <= c.bottom {
		return
	}
	face, size := c.face, c.size
	c.pdf.AddPage()
	c.y = c.top
	if c.onPage != nil {
		c.onPage()
	}
	c.font(face, size)
}

func (c *sheet) hline(x1, x2, y, width float64) {
	c.pdf.SetLineWidth(width)
	c.pdf.Line(x1, y, x2, y)
}

func (c *sheet) vline(x, y1, y2, width float64) {
	c.pdf.SetLineWidth(width)
	c.pdf.Line(x, y1, x, y2)
}

func (c *sheet) box(x, y, w, h float64) {
	c.pdf.SetLineWidth(0.5)
	c.pdf.RectFromUpperLeftWithStyle(x, y, w, h, "D")
}

// column is one column of a table.
type column struct {
	title string
	w     float64
	align int
}

// table draws rows under a header repeated on each page; cells wrap.
// bolds marks rows drawn in bold.
func (c *sheet) table(cols []column, rows [][]string, size float64, bolds map[int]bool) {
	const pad = 2.5
	header := func() {
		c.font(bold, size)
		h := 0.0
		for _, col := range cols {
			h = max(h, float64(len(c.wrap(col.title, col.w-2*pad)))*c.lineH())
		}
		h += 2 * pad
		x := c.left
		for _, col := range cols {
			c.box(x, c.y, col.w, h)
			lines := c.wrap(col.title, col.w-2*pad)
			top := c.y + (h-float64(len(lines))*c.lineH())/2
			for i, l := range lines {
				c.text(x+pad, top+float64(i)*c.lineH(), col.w-2*pad, l, gopdf.Center)
			}
			x += col.w
		}
		c.y += h
	}
	c.need(3 * size * 1.25 * 2)
	header()
	prev := c.onPage
	c.onPage = func() {
		if prev != nil {
			prev()
		}
		header()
	}
	for ri, row := range rows {
		face := regular
		if bolds[ri] {
			face = bold
		}
		c.font(face, size)
		wrapped := make([][]string, len(cols))
		h := 0.0
		for i, col := range cols {
			wrapped[i] = c.wrap(row[i], col.w-2*pad)
			h = max(h, float64(len(wrapped[i]))*c.lineH())
		}
		h += 2 * pad
		c.need(h)
		c.font(face, size)
		x := c.left
		for i, col := range cols {
			c.box(x, c.y, col.w, h)
			for j, l := range wrapped[i] {
				c.text(x+pad, c.y+pad+float64(j)*c.lineH(), col.w-2*pad, l, col.align)
			}
			x += col.w
		}
		c.y += h
	}
	c.onPage = prev
}

// num writes an amount as documents do: "1 200,00".
func num(a money.Amount) string {
	v := int64(a)
	sign := ""
	if v < 0 {
		sign, v = "-", -v
	}
	return sign + groupThousands(strconv.FormatInt(v/100, 10)) + "," + pad2(v%100)
}

func pad2(n int64) string {
	if n < 10 {
		return "0" + strconv.FormatInt(n, 10)
	}
	return strconv.FormatInt(n, 10)
}

func groupThousands(d string) string {
	if len(d) <= 3 {
		return d
	}
	var b strings.Builder
	pre := len(d) % 3
	b.WriteString(d[:pre])
	for i := pre; i < len(d); i += 3 {
		if b.Len() > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(d[i : i+3])
	}
	return b.String()
}
