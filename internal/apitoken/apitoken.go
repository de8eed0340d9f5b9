// Package apitoken issues, checks and revokes the bearer tokens the mobile
// app logs in with. A subscriber sees their tokens (one per device) in the
// profile and can revoke any of them.
package apitoken

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/kabinet-billing/kabinet/internal/clock"
	"github.com/kabinet-billing/kabinet/internal/derrors"
	"github.com/kabinet-billing/kabinet/internal/store"
)

// Token is a token as the subscriber sees it; the secret itself is shown
// once, when issued.
type Token struct {
	ID         int64
	AccountID  int64
	Name       string // the device, as the app names it
	CreatedAt  time.Time
	LastUsedAt time.Time
}

// ErrBadToken is a secret that is no live token: unknown, malformed or revoked.
var ErrBadToken error = derrors.New(derrors.Forbidden, "unauthorized", "invalid or revoked token")

// Prefix marks Kabinet tokens, so that secret scanners and people can tell
// what a leaked string is.
const Prefix = "kbt_"

// Service keeps tokens.
type Service struct {
	DB    *store.DB
	Clock clock.Clock
}

// New makes a Service.
func New(db *store.DB, clk clock.Clock) *Service { return &Service{DB: db, Clock: clk} }

func hash(secret string) string {
	h := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(h[:])
}

// Issue makes a token for the account and returns its secret.
func (s *Service) Issue(ctx context.Context, accountID int64, name string) (string, Token, error) {
	var b [32]byte
	rand.Read(b[:])
	secret := Prefix + base64.RawURLEncoding.EncodeToString(b[:])
	name = strings.TrimSpace(name)
	if len(name) > 100 {
		name = name[:100]
	}
	now := s.Clock.Now().UTC()
	t := Token{AccountID: accountID, Name: name, CreatedAt: now, LastUsedAt: now}
	err := s.DB.Write(ctx, func(tx *store.Tx) error {
		return tx.QueryRow(ctx, `INSERT INTO api_tokens (account_id, hash, name, created_at, last_used_at) VALUES (?, ?, ?, ?, ?) RETURNING id`,
			accountID, hash(secret), name, now, now).Scan(&t.ID)
	})
	if err != nil {
		return "", Token{}, fmt.Errorf("issue token for %d: %w", accountID, err)
	}
	return secret, t, nil
}

// touchEvery bounds how often a token's last use is written: a write per
// request would put the API's reads behind SQLite's single writer.
const touchEvery = time.Minute

// Check returns the live token with this secret.
func (s *Service) Check(ctx context.Context, secret string) (Token, error) {
	if !strings.HasPrefix(secret, Prefix) || len(secret) > 100 {
		return Token{}, ErrBadToken
	}
	var t Token
	var created, used store.Time
	err := s.DB.QueryRow(ctx, `SELECT id, account_id, name, created_at, last_used_at FROM api_tokens WHERE hash = ? AND revoked_at IS NULL`,
		hash(secret)).Scan(&t.ID, &t.AccountID, &t.Name, &created, &used)
	if errors.Is(err, sql.ErrNoRows) {
		return Token{}, ErrBadToken
	}
	if err != nil {
		return Token{}, fmt.Errorf("check token: %w", err)
	}
	t.CreatedAt, t.LastUsedAt = created.Time, used.Time
	if now := s.Clock.Now().UTC(); now.Sub(t.LastUsedAt) >= touchEvery {
		err := s.DB.Write(ctx, func(tx *store.Tx) error {
			_, err := tx.Exec(ctx, `UPDATE api_tokens SET last_used_at = ? WHERE id = ?`, now, t.ID)
			return err
		})
		if err != nil {
			return Token{}, fmt.Errorf("check token: %w", err)
		}
		t.LastUsedAt = now
	}
	return t, nil
}

// List returns the account's live tokens, newest first.
func (s *Service) List(ctx context.Context, accountID int64) ([]Token, error) {
	rows, err := s.DB.Query(ctx, `SELECT id, account_id, name, created_at, last_used_at FROM api_tokens
		WHERE account_id = ? AND revoked_at IS NULL ORDER BY created_at DESC, id DESC`, accountID)
	if err != nil {
		return nil, fmt.Errorf("tokens of %d: %w", accountID, err)
	}
	defer rows.Close()
	var out []Token
	for rows.Next() {
		var t Token
		var created, used store.Time
		if err := rows.Scan(&t.ID, &t.AccountID, &t.Name, &created, &used); err != nil {
			return nil, fmt.Errorf("tokens of %d: %w", accountID, err)
		}
		t.CreatedAt, t.LastUsedAt = created.Time, used.Time
		out = append(out, t)
	}
	return out, rows.Err()
}

// Revoke ends one of the account's tokens; another account's token is
// derrors.NotFound, as if it did not exist.
func (s *Service) Revoke(ctx context.Context, accountID, id int64) error {
	var n int64
	err := s.DB.Write(ctx, func(tx *store.Tx) error {
		res, err := tx.Exec(ctx, `UPDATE api_tokens SET revoked_at = ? WHERE id = ? AND account_id = ? AND revoked_at IS NULL`,
			s.Clock.Now().UTC(), id, accountID)
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	if err != nil {
		return fmt.Errorf("revoke token %d: %w", id, err)
	}
	if n == 0 {
		return fmt.Errorf("revoke token %d: %w", id, derrors.NotFound)
	}
	return nil
}

// RevokeAll ends every live token of the account but keep (0: none), inside
// the caller's transaction: a password change ends them with the password.
func RevokeAll(ctx context.Context, tx *store.Tx, accountID, keep int64, at time.Time) error {
	if _, err := tx.Exec(ctx, `UPDATE api_tokens SET revoked_at = ? WHERE account_id = ? AND id <> ? AND revoked_at IS NULL`,
		at.UTC(), accountID, keep); err != nil {
		return fmt.Errorf("revoke tokens of %d: %w", accountID, err)
	}
	return nil
}
