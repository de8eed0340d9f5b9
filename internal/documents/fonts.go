package documents

import (
	"embed"
	"encoding/json"
	"fmt"

	"github.com/signintech/gopdf"
	"github.com/signintech/gopdf/fontmaker/core"
)

// The prepared subsets of DejaVu Sans (see fonts/README.md). gopdf copies
// a font's whole hmtx, loca and hinting tables into each PDF and deflates
// them there. Measured with bench/documents (1,000 documents, user CPU):
// full fonts 5.5 s, hinted subsets 4.1 s, unhinted subsets 3.1 s; a PDF
// 47 KB, 29 KB, 18 KB.
//
//go:embed fonts/DejaVuSans-documents.ttf fonts/DejaVuSans-Bold-documents.ttf
var subsetFS embed.FS

// fontSet is a pair of parsed fonts (regular and bold) and the characters
// both of them have.
type fontSet struct {
	fonts *gopdf.FontContainer
	runes map[rune]bool
}

// subsetFonts parses the prepared subsets.
func subsetFonts() (fontSet, error) {
	fs := fontSet{fonts: &gopdf.FontContainer{}, runes: map[rune]bool{}}
	for i, f := range []struct{ name, file string }{{regular, "fonts/DejaVuSans-documents.ttf"}, {bold, "fonts/DejaVuSans-Bold-documents.ttf"}} {
		b, err := subsetFS.ReadFile(f.file)
		if err != nil {
			return fs, err
		}
		if err := fs.fonts.AddTTFFontData(f.name, b); err != nil {
			return fs, fmt.Errorf("%s: %w", f.file, err)
		}
		var p core.TTFParser
		if err := p.ParseFontData(b); err != nil {
			return fs, fmt.Errorf("%s: %w", f.file, err)
		}
		has := map[rune]bool{}
		for r := range p.Chars() {
			has[rune(r)] = true
		}
		if i == 0 {
			fs.runes = has
			continue
		}
		for r := range fs.runes {
			if !has[r] {
				delete(fs.runes, r)
			}
		}
	}
	return fs, nil
}

// covers says whether every character of d's text is in the set. The
// fixed words of the forms are checked by TestSubsetCoversForms.
func (fs fontSet) covers(d Data) bool {
	b, err := json.Marshal(d)
	if err != nil {
		return false
	}
	for _, r := range string(b) {
		if !fs.runes[r] {
			return false
		}
	}
	return true
}

// renderSubset draws d with the prepared subsets whatever its text,
// calling missing for each character they lack (for tests).
func renderSubset(d Data, missing func(rune)) ([]byte, error) {
	fc := &gopdf.FontContainer{}
	for _, f := range []struct{ name, file string }{{regular, "fonts/DejaVuSans-documents.ttf"}, {bold, "fonts/DejaVuSans-Bold-documents.ttf"}} {
		b, err := subsetFS.ReadFile(f.file)
		if err != nil {
			return nil, err
		}
		if err := fc.AddTTFFontDataWithOption(f.name, b, gopdf.TtfOption{OnGlyphNotFound: missing}); err != nil {
			return nil, err
		}
	}
	return render(d, fc)
}
