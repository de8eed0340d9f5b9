package platform

import (
	"bytes"
	"image/png"
	"strings"
	"testing"
)

// TestQRCode: an SBP link becomes a well-formed QR symbol (square, of a
// version's size, with the three finder patterns) in SVG and PNG.
func TestQRCode(t *testing.T) {
	link := "https://qr.nspk.ru/AS1A0003RLRB3BQL8HJ3QFBJ2B4NB1D0?type=02&bank=100000000111&sum=30000&cur=RUB&crc=C08B"
	bits, err := qrBitmap(link)
	if err != nil {
		t.Fatal(err)
	}
	n := len(bits)
	if (n-17)%4 != 0 || n < 21 {
		t.Fatalf("size %d is no QR version's", n)
	}
	finder := func(x0, y0 int) bool {
		for y := range 7 {
			for x := range 7 {
				ring := x == 0 || y == 0 || x == 6 || y == 6
				core := x >= 2 && x <= 4 && y >= 2 && y <= 4
				if bits[y0+y][x0+x] != (ring || core) {
					return false
				}
			}
		}
		return true
	}
	if !finder(0, 0) || !finder(n-7, 0) || !finder(0, n-7) {
		t.Error("finder patterns missing")
	}
	svg, err := QRCodeSVG(link)
	if err != nil || !strings.HasPrefix(string(svg), "<svg") || strings.Contains(string(svg), "nspk") {
		t.Errorf("svg: %v %.60s", err, svg)
	}
	p, err := QRCodePNG(link, 4)
	if err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(bytes.NewReader(p))
	if err != nil || img.Bounds().Dx() != (n+2*qrQuiet)*4 {
		t.Errorf("png: %v %v", err, img.Bounds())
	}
}
