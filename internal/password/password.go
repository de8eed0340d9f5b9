// Package password hashes the passwords people log in with (subscribers and
// operators): argon2id in a PHC string, with the number of hashes computed at
// once bounded so that a login storm cannot take all the memory.
package password

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"

	"golang.org/x/crypto/argon2"
)

// argon2id parameters: OWASP's m=19 MiB, t=2, p=1 — about 30 ms on this
// class of machine.
const (
	argonTime    = 2
	argonMemory  = 19 * 1024
	argonThreads = 1
	argonKeyLen  = 32
)

// slots bounds concurrent argon2 work: each hash holds 19 MiB.
var slots = make(chan struct{}, 4)

// computed counts the argon2 hashes this process has computed (a test
// proves that merely loading the package computes none).
var computed atomic.Int64

func key(pw string, salt []byte, t, m uint32, p uint8, n uint32) []byte {
	slots <- struct{}{}
	defer func() { <-slots }()
	computed.Add(1)
	return argon2.IDKey([]byte(pw), salt, t, m, p, n)
}

// Hash makes a PHC string: $argon2id$v=19$m=19456,t=2,p=1$salt$hash.
func Hash(pw string) string {
	salt := make([]byte, 16)
	rand.Read(salt)
	h := key(pw, salt, argonTime, argonMemory, argonThreads, argonKeyLen)
	return fmt.Sprintf("$argon2id$v=19$m=%d,t=%d,p=%d$%s$%s", argonMemory, argonTime, argonThreads,
		base64.RawStdEncoding.EncodeToString(salt), base64.RawStdEncoding.EncodeToString(h))
}

// Check compares pw with a PHC string in constant time. A malformed string
// matches nothing.
func Check(phc, pw string) bool {
	parts := strings.Split(phc, "$")
	if len(parts) != 6 || parts[1] != "argon2id" || parts[2] != "v=19" {
		return false
	}
	var m, t uint32
	var p uint8
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &m, &t, &p); err != nil || p == 0 || t == 0 {
		return false
	}
	salt, err1 := base64.RawStdEncoding.DecodeString(parts[4])
	want, err2 := base64.RawStdEncoding.DecodeString(parts[5])
	if err1 != nil || err2 != nil || len(want) == 0 {
		return false
	}
	got := key(pw, salt, t, m, p, uint32(len(want)))
	return subtle.ConstantTimeCompare(got, want) == 1
}

// dummy is a hash of nothing anyone types, made on first use: a command
// that never checks a password (every CLI command but serve) pays no hash.
var dummy = sync.OnceValue(func() string { return Hash("timing-equaliser") })

// Waste spends the time of one Check, for a login that does not exist: the
// answer then takes as long as for a wrong password, so its timing does not
// tell which logins exist.
func Waste(pw string) { Check(dummy(), pw) }

// NormalLogin is a login as logins are stored and looked up: trimmed and
// lower case, so that "Alice " typed on a phone is alice.
func NormalLogin(login string) string { return strings.ToLower(strings.TrimSpace(login)) }

// Lookup is the first step of every password login, the same for
// subscribers and operators: find reads the holder of the login as stored
// (NormalLogin), reporting none with an error that is missing (errors.Is).
// For a login nobody holds it spends the time of one Check and answers
// found false with no error: the refusal then takes as long as for a wrong
// password, so its timing does not tell which logins exist. The caller
// checks the password of a holder found, and refuses both alike.
func Lookup[T any](ctx context.Context, login, pw string, find func(context.Context, string) (T, error), missing error) (holder T, found bool, err error) {
	holder, err = find(ctx, NormalLogin(login))
	if errors.Is(err, missing) {
		Waste(pw)
		var none T
		return none, false, nil
	}
	return holder, err == nil, err
}
