package platform

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"image/png"

	qrcode "github.com/yeqown/go-qrcode/v2"
)

// qrQuiet is the blank border a scanner needs around the code, in modules
// (ISO/IEC 18004 asks for four).
const qrQuiet = 4

func qrBitmap(data string) ([][]bool, error) {
	// Medium error correction: an SBP link is ~100 characters, and a phone
	// camera reads it off a screen without the highest level.
	qr, err := qrcode.NewWith(data, qrcode.WithErrorCorrectionLevel(qrcode.ErrorCorrectionMedium))
	if err != nil {
		return nil, fmt.Errorf("qr code: %w", err)
	}
	var w bitmapWriter
	if err := qr.Save(&w); err != nil {
		return nil, fmt.Errorf("qr code: %w", err)
	}
	return w.bits, nil
}

type bitmapWriter struct{ bits [][]bool }

func (b *bitmapWriter) Write(mat qrcode.Matrix) error { b.bits = mat.Bitmap(); return nil }
func (b *bitmapWriter) Close() error                  { return nil }

// QRCodeSVG draws data as a QR code in SVG, drawn here so that the page
// needs no outside service and the link never leaves Kabinet. One path of
// unit squares keeps it small; crispEdges keeps the modules sharp.
func QRCodeSVG(data string) ([]byte, error) {
	bits, err := qrBitmap(data)
	if err != nil {
		return nil, err
	}
	n := len(bits) + 2*qrQuiet
	var b bytes.Buffer
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 %d %d" shape-rendering="crispEdges">`, n, n)
	fmt.Fprintf(&b, `<rect width="%d" height="%d" fill="#fff"/><path fill="#000" d="`, n, n)
	for y, row := range bits {
		for x, on := range row {
			if on {
				fmt.Fprintf(&b, "M%d %dh1v1h-1z", x+qrQuiet, y+qrQuiet)
			}
		}
	}
	b.WriteString(`"/></svg>`)
	return b.Bytes(), nil
}

// QRCodePNG draws data as a QR code in PNG, scale pixels a module.
func QRCodePNG(data string, scale int) ([]byte, error) {
	bits, err := qrBitmap(data)
	if err != nil {
		return nil, err
	}
	scale = max(scale, 1)
	n := (len(bits) + 2*qrQuiet) * scale
	img := image.NewPaletted(image.Rect(0, 0, n, n), color.Palette{color.White, color.Black})
	for y, row := range bits {
		for x, on := range row {
			if !on {
				continue
			}
			for dy := range scale {
				for dx := range scale {
					img.SetColorIndex((x+qrQuiet)*scale+dx, (y+qrQuiet)*scale+dy, 1)
				}
			}
		}
	}
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		return nil, fmt.Errorf("qr code: %w", err)
	}
	return b.Bytes(), nil
}
