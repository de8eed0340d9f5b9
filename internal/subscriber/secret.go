package subscriber

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

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
