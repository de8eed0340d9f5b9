package platform

import (
	"encoding/binary"
	"errors"
	"math"
	"time"

	"github.com/alexedwards/scs/v2"
)

// sessionCodec encodes session data for the store. Every page view decodes
// its session, and gob (scs's default) compiles its decoder afresh each
// time: the logged-in home page took 1.37 times the server's CPU with gob
// (bench/portal with 100,000 accounts, a session written by each codec, 80
// rounds alternated in one process over 8 connections on two shared
// cores: median of the rounds' ratios, quartiles 1.16-1.62). Our sessions
// hold only strings and int64s, which this writes in a small binary form;
// anything else, and every row written before, goes through gob as before.
//
// Format: 0x00 'K' 'S' 1, the deadline (time.MarshalBinary, length-prefixed),
// then per value: key (length-prefixed), a tag ('s' string, 'i' int64) and
// the value (length-prefixed bytes or a varint). Gob never starts a stream
// with a zero byte (a message's length comes first), so the two cannot be
// confused.
type sessionCodec struct{}

var sessionMagic = [4]byte{0, 'K', 'S', 1}

func (sessionCodec) Encode(deadline time.Time, values map[string]any) ([]byte, error) {
	d, err := deadline.MarshalBinary()
	if err != nil {
		return nil, err
	}
	b := make([]byte, 0, 64+len(d))
	b = append(b, sessionMagic[:]...)
	b = appendBytes(b, d)
	for k, v := range values {
		b = appendBytes(b, []byte(k))
		switch v := v.(type) {
		case string:
			b = append(b, 's')
			b = appendBytes(b, []byte(v))
		case int64:
			b = append(b, 'i')
			b = binary.AppendVarint(b, v)
		default:
			return scs.GobCodec{}.Encode(deadline, values)
		}
	}
	return b, nil
}

var errSessionData = errors.New("session data: malformed")

func (sessionCodec) Decode(b []byte) (time.Time, map[string]any, error) {
	if len(b) < len(sessionMagic) || [4]byte(b[:4]) != sessionMagic {
		return scs.GobCodec{}.Decode(b)
	}
	b = b[4:]
	d, b, ok := readBytes(b)
	if !ok {
		return time.Time{}, nil, errSessionData
	}
	var deadline time.Time
	if err := deadline.UnmarshalBinary(d); err != nil {
		return time.Time{}, nil, err
	}
	values := map[string]any{}
	for len(b) > 0 {
		k, rest, ok := readBytes(b)
		if !ok || len(rest) == 0 {
			return time.Time{}, nil, errSessionData
		}
		tag, rest := rest[0], rest[1:]
		switch tag {
		case 's':
			v, r, ok := readBytes(rest)
			if !ok {
				return time.Time{}, nil, errSessionData
			}
			values[string(k)], b = string(v), r
		case 'i':
			v, n := binary.Varint(rest)
			if n <= 0 {
				return time.Time{}, nil, errSessionData
			}
			values[string(k)], b = v, rest[n:]
		default:
			return time.Time{}, nil, errSessionData
		}
	}
	return deadline, values, nil
}

func appendBytes(b, v []byte) []byte {
	return append(binary.AppendUvarint(b, uint64(len(v))), v...)
}

func readBytes(b []byte) (v, rest []byte, ok bool) {
	n, k := binary.Uvarint(b)
	if k <= 0 || n > math.MaxInt32 || uint64(len(b)-k) < n {
		return nil, nil, false
	}
	return b[k : k+int(n)], b[k+int(n):], true
}
