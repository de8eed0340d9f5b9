package pwa

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"math"
	"strconv"
	"strings"
	"sync"
)

// The app's icon has one source: the shapes below, in a unit square. The
// SVG favicon is written from them and every PNG (the manifest's icons,
// the maskable ones, Apple's touch icon, the favicon.ico's) is drawn from
// them in the provider's theme colour when first asked for, so nothing is
// kept in the repository twice and a new colour in the config gives new
// icons on the next start.

// point is a position in the unit square, y down.
type point struct{ x, y float64 }

// letter is a white "К": a stem and two arms, convex polygons.
var letter = [][]point{
	{{0.29, 0.24}, {0.41, 0.24}, {0.41, 0.76}, {0.29, 0.76}},               // stem
	{{0.41, 0.46}, {0.60, 0.24}, {0.75, 0.24}, {0.49, 0.54}, {0.41, 0.60}}, // upper arm
	{{0.41, 0.50}, {0.55, 0.44}, {0.77, 0.76}, {0.62, 0.76}},               // lower arm
}

// cornerRadius rounds the square of the plain ("any") icon; a maskable one
// is a full square (the platform cuts its own shape), with the letter kept
// in the middle 80% (the safe zone).
const cornerRadius = 0.22

// iconKind is what is drawn: the plain icon or the maskable one.
type iconKind int

const (
	plain iconKind = iota
	maskable
)

// letterScale shrinks the letter about the centre of a maskable icon, well
// inside the safe zone's circle.
func letterScale(k iconKind) float64 {
	if k == maskable {
		return 0.85
	}
	return 1
}

// inside reports whether p is inside the convex polygon poly (either
// winding).
func inside(p point, poly []point) bool {
	sign := 0.0
	for i := range poly {
		a, b := poly[i], poly[(i+1)%len(poly)]
		c := (b.x-a.x)*(p.y-a.y) - (b.y-a.y)*(p.x-a.x)
		if c == 0 {
			continue
		}
		if sign == 0 {
			sign = c
		} else if (c > 0) != (sign > 0) {
			return false
		}
	}
	return true
}

// inRoundedSquare reports whether p is inside the unit square with corners
// rounded by r.
func inRoundedSquare(p point, r float64) bool {
	if p.x < 0 || p.y < 0 || p.x > 1 || p.y > 1 {
		return false
	}
	cx := min(max(p.x, r), 1-r)
	cy := min(max(p.y, r), 1-r)
	dx, dy := p.x-cx, p.y-cy
	return dx*dx+dy*dy <= r*r
}

// inLetter reports whether p (icon coordinates) is on the letter.
func inLetter(p point, k iconKind) bool {
	s := letterScale(k)
	q := point{0.5 + (p.x-0.5)/s, 0.5 + (p.y-0.5)/s}
	for _, poly := range letter {
		if inside(q, poly) {
			return true
		}
	}
	return false
}

// draw renders the icon at size×size pixels, 4×4 samples a pixel.
func draw(size int, k iconKind, bg color.NRGBA) *image.NRGBA {
	const n = 4
	img := image.NewNRGBA(image.Rect(0, 0, size, size))
	white := color.NRGBA{255, 255, 255, 255}
	for y := range size {
		for x := range size {
			var r, g, b, a int
			for sy := range n {
				for sx := range n {
					p := point{(float64(x) + (float64(sx)+0.5)/n) / float64(size), (float64(y) + (float64(sy)+0.5)/n) / float64(size)}
					var c color.NRGBA
					switch {
					case k == plain && !inRoundedSquare(p, cornerRadius):
						continue
					case inLetter(p, k):
						c = white
					default:
						c = bg
					}
					r, g, b, a = r+int(c.R), g+int(c.G), b+int(c.B), a+int(c.A)
				}
			}
			covered := a / 255 // samples that hit the icon
			if covered == 0 {
				continue
			}
			img.SetNRGBA(x, y, color.NRGBA{uint8(r / covered), uint8(g / covered), uint8(b / covered), uint8(a / (n * n))})
		}
	}
	return img
}

// parseColor reads #rrggbb (config.Check has validated it).
func parseColor(s string) color.NRGBA {
	v, err := strconv.ParseUint(strings.TrimPrefix(s, "#"), 16, 32)
	if err != nil || len(s) != 7 {
		return color.NRGBA{0x2a, 0x62, 0xd6, 255}
	}
	return color.NRGBA{uint8(v >> 16), uint8(v >> 8), uint8(v), 255}
}

// icons draws each icon once per process and colour: drawing a 512 px one
// takes a noticeable fraction of a second, and a test suite starts many
// servers.
var icons struct {
	mu   sync.Mutex
	made map[string][]byte
}

// iconPNG is the icon as a PNG, drawn on first use.
func iconPNG(size int, k iconKind, theme string) ([]byte, error) {
	key := fmt.Sprint(size, k, theme)
	icons.mu.Lock()
	defer icons.mu.Unlock()
	if b, ok := icons.made[key]; ok {
		return b, nil
	}
	var buf bytes.Buffer
	if err := (&png.Encoder{CompressionLevel: png.BestCompression}).Encode(&buf, draw(size, k, parseColor(theme))); err != nil {
		return nil, fmt.Errorf("icon %d: %w", size, err)
	}
	if icons.made == nil {
		icons.made = map[string][]byte{}
	}
	icons.made[key] = buf.Bytes()
	return buf.Bytes(), nil
}

// ico packs PNG images into a .ico file (PNG entries are understood by
// every browser that asks for /favicon.ico).
func ico(sizes []int, pngs [][]byte) []byte {
	var b bytes.Buffer
	binary.Write(&b, binary.LittleEndian, [3]uint16{0, 1, uint16(len(pngs))})
	offset := 6 + 16*len(pngs)
	for i, p := range pngs {
		s := uint8(sizes[i])
		if sizes[i] >= 256 {
			s = 0
		}
		b.Write([]byte{s, s, 0, 0})
		binary.Write(&b, binary.LittleEndian, [2]uint16{1, 32})
		binary.Write(&b, binary.LittleEndian, [2]uint32{uint32(len(p)), uint32(offset)})
		offset += len(p)
	}
	for _, p := range pngs {
		b.Write(p)
	}
	return b.Bytes()
}

// svg writes the plain icon as SVG in the theme colour.
func svg(theme string) []byte {
	var b strings.Builder
	f := func(v float64) string { return strconv.FormatFloat(math.Round(v*1000)/10, 'f', -1, 64) }
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 100 100"><rect width="100" height="100" rx="%s" fill="%s"/><path fill="#fff" d="`, f(cornerRadius), theme)
	for _, poly := range letter {
		for i, p := range poly {
			if i == 0 {
				b.WriteString("M")
			} else {
				b.WriteString("L")
			}
			b.WriteString(f(p.x) + " " + f(p.y))
		}
		b.WriteString("Z")
	}
	b.WriteString(`"/></svg>`)
	return []byte(b.String())
}
