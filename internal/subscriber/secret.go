package subscriber

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/crypto/argon2"
)

// argon2id parameters: OWASP's m=19 MiB, t=2, p=1 — about 30 ms on this
// class of machine; concurrent hashing is bounded by hashSlots.
const (
	argonTime    = 2
	argonMemory  = 19 * 1024
	argonThreads = 1
	argonKeyLen  = 32
)

// hashSlots bounds concurrent argon2 work so that a login storm cannot take
// all the memory.
var hashSlots = make(chan struct{}, 4)

// HashPassword makes a PHC string: $argon2id$v=19$m=65536,t=1,p=2$salt$hash.
func HashPassword(pw string) string {
	salt := make([]byte, 16)
	rand.Read(salt)
	hashSlots <- struct{}{}
	h := argon2.IDKey([]byte(pw), salt, argonTime, argonMemory, argonThreads, argonKeyLen)
	<-hashSlots
	return fmt.Sprintf("$argon2id$v=19$m=%d,t=%d,p=%d$%s$%s", argonMemory, argonTime, argonThreads,
		base64.RawStdEncoding.EncodeToString(salt), base64.RawStdEncoding.EncodeToString(h))
}

// CheckPassword compares pw with a PHC string in constant time.
func CheckPassword(phc, pw string) bool {
	parts := strings.Split(phc, "$")
	if len(parts) != 6 || parts[1] != "argon2id" {
		return false
	}
	var m, t uint32
	var p uint8
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &m, &t, &p); err != nil {
		return false
	}
	salt, err1 := base64.RawStdEncoding.DecodeString(parts[4])
	want, err2 := base64.RawStdEncoding.DecodeString(parts[5])
	if err1 != nil || err2 != nil {
		return false
	}
	hashSlots <- struct{}{}
	got := argon2.IDKey([]byte(pw), salt, t, m, p, uint32(len(want)))
	<-hashSlots
	return subtle.ConstantTimeCompare(got, want) == 1
}

// Sealer encrypts the copy of the password RADIUS needs for CHAP and
// MS-CHAPv2 (AES-256-GCM).
type Sealer struct{ aead cipher.AEAD }

// NewSealer takes a 32-byte key.
func NewSealer(key []byte) (*Sealer, error) {
	if len(key) != 32 {
		return nil, errors.New("secret key must be 32 bytes")
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	return &Sealer{aead: aead}, nil
}

// Seal encrypts pw, bound to the login so a copy moved to another row fails.
func (s *Sealer) Seal(login, pw string) string {
	nonce := make([]byte, s.aead.NonceSize())
	rand.Read(nonce)
	return base64.RawStdEncoding.EncodeToString(s.aead.Seal(nonce, nonce, []byte(pw), []byte(login)))
}

// Open decrypts what Seal made.
func (s *Sealer) Open(login, sealed string) (string, error) {
	b, err := base64.RawStdEncoding.DecodeString(sealed)
	if err != nil || len(b) < s.aead.NonceSize() {
		return "", errors.New("sealed password is malformed")
	}
	pt, err := s.aead.Open(nil, b[:s.aead.NonceSize()], b[s.aead.NonceSize():], []byte(login))
	if err != nil {
		return "", fmt.Errorf("sealed password of %s: wrong key or damaged: %w", login, err)
	}
	return string(pt), nil
}

// LoadOrCreateKey reads a hex key from hexKey, or else from the file path,
// creating the file with a new random key when it does not exist (the demo
// and a single SQLite box need no set-up).
func LoadOrCreateKey(hexKey, path string) ([]byte, error) {
	if hexKey != "" {
		k, err := hex.DecodeString(strings.TrimSpace(hexKey))
		if err != nil || len(k) != 32 {
			return nil, errors.New("secret key must be 64 hex digits")
		}
		return k, nil
	}
	if path == "" {
		return nil, errors.New("no secret key: set KABINET_SECRET_KEY (64 hex digits)")
	}
	if b, err := os.ReadFile(path); err == nil {
		return LoadOrCreateKey(strings.TrimSpace(string(b)), "")
	} else if !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("secret key %s: %w", path, err)
	}
	k := make([]byte, 32)
	rand.Read(k)
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, err
	}
	if err := os.WriteFile(path, []byte(hex.EncodeToString(k)+"\n"), 0o600); err != nil {
		return nil, fmt.Errorf("secret key %s: %w", path, err)
	}
	return k, nil
}

// GeneratePassword makes a password a person can type from paper: no 0/O, 1/l.
func GeneratePassword(n int) string {
	const alphabet = "abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"
	buf := make([]byte, n)
	rand.Read(buf)
	for i := range buf {
		buf[i] = alphabet[int(buf[i])%len(alphabet)]
	}
	return string(buf)
}
