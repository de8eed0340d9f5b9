package smpp

import (
	"fmt"
	"strings"
	"unicode/utf16"
)

// data_coding values (spec 5.2.19).
const (
	CodingDefault byte = 0x00 // the SMSC's default alphabet: GSM 03.38 here
	CodingUCS2    byte = 0x08 // ISO/IEC 10646 UCS-2, big-endian
)

// gsmBasic is the GSM 03.38 default alphabet by code; 0x1B is the escape
// to the extension table (written here as a NUL that no text matches).
var gsmBasic = []rune("@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞ\x00ÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà")

// gsmExt is the extension table: each is sent as 0x1B and its code.
var gsmExt = map[rune]byte{'\f': 0x0A, '^': 0x14, '{': 0x28, '}': 0x29, '\\': 0x2F, '[': 0x3C, '~': 0x3D, ']': 0x3E, '|': 0x40, '€': 0x65}

var gsmCode = func() map[rune]byte {
	m := make(map[rune]byte, len(gsmBasic))
	for i, r := range gsmBasic {
		if r != 0 {
			m[r] = byte(i)
		}
	}
	return m
}()

// encodeGSM writes text as GSM 03.38 septets, one per octet (unpacked: over
// SMPP the SMSC packs them for the air interface), or reports false when
// a character is outside the alphabet.
func encodeGSM(text string) ([]byte, bool) {
	out := make([]byte, 0, len(text))
	for _, r := range text {
		if c, ok := gsmCode[r]; ok {
			out = append(out, c)
		} else if c, ok := gsmExt[r]; ok {
			out = append(out, 0x1B, c)
		} else {
			return nil, false
		}
	}
	return out, true
}

// DecodeGSM reads unpacked GSM 03.38 septets (the simulator's side).
func DecodeGSM(b []byte) string {
	var sb strings.Builder
	for i := 0; i < len(b); i++ {
		c := b[i]
		if c == 0x1B && i+1 < len(b) {
			i++
			for r, e := range gsmExt {
				if e == b[i] {
					sb.WriteRune(r)
					break
				}
			}
			continue
		}
		if int(c) < len(gsmBasic) {
			sb.WriteRune(gsmBasic[c])
		}
	}
	return sb.String()
}

// encodeUCS2 writes text as UTF-16 big-endian: UCS-2 for every Cyrillic
// and Latin letter; a character beyond the BMP (an emoji) becomes a
// surrogate pair, which phones show and strict UCS-2 would not have.
func encodeUCS2(text string) []byte {
	u := utf16.Encode([]rune(text))
	out := make([]byte, 0, 2*len(u))
	for _, c := range u {
		out = append(out, byte(c>>8), byte(c))
	}
	return out
}

// DecodeUCS2 reads UTF-16 big-endian.
func DecodeUCS2(b []byte) string {
	u := make([]uint16, 0, len(b)/2)
	for i := 0; i+1 < len(b); i += 2 {
		u = append(u, uint16(b[i])<<8|uint16(b[i+1]))
	}
	return string(utf16.Decode(u))
}

// Limits of one SMS (140 octets of user data on the air): 160 GSM septets
// or 70 UCS-2 characters alone; with the 6-octet concatenation header, 153
// septets or 67 characters a part.
const (
	gsmSingle  = 160
	gsmPart    = 153
	ucs2Single = 140 // octets
	ucs2Part   = 134 // octets
	maxParts   = 255
)

// Segment is one submit_sm's worth of a message: its data_coding, whether
// it begins with a UDH (esm_class UDHI), and the short_message octets.
type Segment struct {
	DataCoding byte
	UDH        bool
	Data       []byte
}

// Split encodes text for SMS: the GSM default alphabet when every
// character is in it, UCS-2 otherwise (Cyrillic always), and splits a long
// text into parts carrying a concatenation UDH (IEI 0x00, 8-bit reference:
// 05 00 03 ref total seq; 3GPP TS 23.040 9.2.3.24.1). ref tells the parts
// of one message from another's. A GSM escape pair or a UTF-16 surrogate
// pair is never cut between parts.
func Split(text string, ref byte) ([]Segment, error) {
	if text == "" {
		return nil, fmt.Errorf("smpp: empty message")
	}
	data, gsm := encodeGSM(text)
	coding, single, part := CodingDefault, gsmSingle, gsmPart
	if !gsm {
		data, coding, single, part = encodeUCS2(text), CodingUCS2, ucs2Single, ucs2Part
	}
	if len(data) <= single {
		return []Segment{{DataCoding: coding, Data: data}}, nil
	}
	var chunks [][]byte
	for len(data) > 0 {
		n := min(part, len(data))
		if n < len(data) {
			if gsm && data[n-1] == 0x1B {
				n-- // keep the escape with its character
			}
			if !gsm {
				if hi := uint16(data[n-2])<<8 | uint16(data[n-1]); hi >= 0xD800 && hi < 0xDC00 {
					n -= 2 // keep the surrogate pair together
				}
			}
		}
		chunks = append(chunks, data[:n])
		data = data[n:]
	}
	if len(chunks) > maxParts {
		return nil, fmt.Errorf("smpp: message of %d parts, at most %d", len(chunks), maxParts)
	}
	out := make([]Segment, len(chunks))
	for i, c := range chunks {
		udh := []byte{0x05, 0x00, 0x03, ref, byte(len(chunks)), byte(i + 1)}
		out[i] = Segment{DataCoding: coding, UDH: true, Data: append(udh, c...)}
	}
	return out, nil
}

// Concat is a part's place in a concatenated message, read from its UDH.
type Concat struct {
	Ref, Total, Seq int
}

// ReadUDH splits a short_message with UDHI set into its concatenation
// information (if any) and the text's octets.
func ReadUDH(b []byte) (Concat, []byte, error) {
	if len(b) < 1 || int(b[0])+1 > len(b) {
		return Concat{}, nil, fmt.Errorf("%w: UDH longer than the message", ErrFormat)
	}
	hdr, rest := b[1:1+int(b[0])], b[1+int(b[0]):]
	var c Concat
	for len(hdr) >= 2 {
		iei, n := hdr[0], int(hdr[1])
		if 2+n > len(hdr) {
			return Concat{}, nil, fmt.Errorf("%w: truncated UDH element", ErrFormat)
		}
		v := hdr[2 : 2+n]
		switch {
		case iei == 0x00 && n == 3:
			c = Concat{Ref: int(v[0]), Total: int(v[1]), Seq: int(v[2])}
		case iei == 0x08 && n == 4: // 16-bit reference
			c = Concat{Ref: int(v[0])<<8 | int(v[1]), Total: int(v[2]), Seq: int(v[3])}
		}
		hdr = hdr[2+n:]
	}
	return c, rest, nil
}

// Text decodes a segment's text (after any UDH) by its data_coding.
func Text(coding byte, b []byte) string {
	if coding == CodingUCS2 {
		return DecodeUCS2(b)
	}
	return DecodeGSM(b)
}
