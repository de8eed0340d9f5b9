package telegram

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/kabinet-billing/kabinet/internal/clock"
	"github.com/kabinet-billing/kabinet/internal/derrors"
	"github.com/kabinet-billing/kabinet/internal/store"
)

// Events of the links.
const (
	EventLinked   = "telegram.linked"
	EventUnlinked = "telegram.unlinked"
)

// Why a link ended.
const (
	UnlinkPortal  = "portal"  // the subscriber, from the profile
	UnlinkAPI     = "api"     // the subscriber, from the app
	UnlinkStop    = "stop"    // the subscriber, with /stop in the chat
	UnlinkBlocked = "blocked" // Telegram answered 403: the bot was blocked
)

// Refusals of a linking token, with message codes.
var (
	ErrTokenUnknown error = derrors.New(derrors.NotFound, "link_unknown", "no such linking token")
	ErrTokenUsed    error = derrors.New(derrors.Conflict, "link_used", "the linking token was used already")
	ErrTokenExpired error = derrors.New(derrors.Invalid, "link_expired", "the linking token has expired")
)

// Links keeps which chat belongs to which account.
type Links struct {
	DB    *store.DB
	Clock clock.Clock
	TTL   time.Duration // a token's life; default 15 minutes
}

// NewLinks makes Links.
func NewLinks(db *store.DB, clk clock.Clock, ttl time.Duration) *Links {
	if ttl <= 0 {
		ttl = 15 * time.Minute
	}
	return &Links{DB: db, Clock: clk, TTL: ttl}
}

// Link is a chat linked to an account.
type Link struct {
	ChatID    int64
	AccountID int64
	Username  string
	Lang      string
	LinkedAt  time.Time
}

func hashToken(t string) string {
	h := sha256.Sum256([]byte(t))
	return hex.EncodeToString(h[:])
}

// NewToken makes a one-time token for the account's deep link. Only its
// hash is kept; the account's earlier unused tokens stop working, so that
// only the link on the page last shown links.
func (l *Links) NewToken(ctx context.Context, accountID int64) (string, time.Time, error) {
	var b [24]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", time.Time{}, err
	}
	// 32 characters of base64url: within the deep link's 64 of
	// A-Z, a-z, 0-9, _ and -.
	token := base64.RawURLEncoding.EncodeToString(b[:])
	now := l.Clock.Now().UTC()
	expires := now.Add(l.TTL)
	err := l.DB.Write(ctx, func(tx *store.Tx) error {
		if _, err := tx.Exec(ctx, `UPDATE telegram_link_tokens SET expires_at = ? WHERE account_id = ? AND used_at IS NULL AND expires_at > ?`, now, accountID, now); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `INSERT INTO telegram_link_tokens (account_id, token_hash, created_at, expires_at) VALUES (?, ?, ?, ?)`,
			accountID, hashToken(token), now, expires)
		return err
	})
	if err != nil {
		return "", time.Time{}, fmt.Errorf("telegram link token for %d: %w", accountID, err)
	}
	return token, expires, nil
}

// Link spends token to link the chat to the token's account, replacing any
// link either had. It returns the account.
func (l *Links) Link(ctx context.Context, token string, chat Link) (int64, error) {
	now := l.Clock.Now().UTC()
	var account int64
	err := l.DB.Write(ctx, func(tx *store.Tx) error {
		var id int64
		var expires time.Time
		var used sql.NullTime
		err := tx.QueryRow(ctx, `SELECT id, account_id, expires_at, used_at FROM telegram_link_tokens WHERE token_hash = ?`, hashToken(token)).
			Scan(&id, &account, &expires, &used)
		switch {
		case errors.Is(err, sql.ErrNoRows):
			return ErrTokenUnknown
		case err != nil:
			return err
		case used.Valid:
			return ErrTokenUsed
		case !now.Before(expires):
			return ErrTokenExpired
		}
		// Spent under the write lock: a second /start with it finds it used.
		res, err := tx.Exec(ctx, `UPDATE telegram_link_tokens SET used_at = ?, chat_id = ? WHERE id = ? AND used_at IS NULL`, now, chat.ChatID, id)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n != 1 {
			return ErrTokenUsed
		}
		if err := l.unlinkTx(ctx, tx, `chat_id = ? OR account_id = ?`, []any{chat.ChatID, account}, "relinked", now); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `INSERT INTO telegram_chats (chat_id, account_id, username, lang, linked_at) VALUES (?, ?, ?, ?, ?)`,
			chat.ChatID, account, chat.Username, chat.Lang, now); err != nil {
			return err
		}
		return tx.Emit(ctx, store.Event{Kind: EventLinked, AccountID: account, At: now,
			Data: map[string]string{"chat": strconv.FormatInt(chat.ChatID, 10), "username": chat.Username}})
	})
	if err != nil {
		return 0, fmt.Errorf("telegram link of chat %d: %w", chat.ChatID, err)
	}
	return account, nil
}

// unlinkTx removes the links matching where, each with its event.
func (l *Links) unlinkTx(ctx context.Context, tx *store.Tx, where string, args []any, reason string, now time.Time) error {
	rows, err := tx.Query(ctx, `SELECT chat_id, account_id FROM telegram_chats WHERE `+where, args...)
	if err != nil {
		return err
	}
	var gone []Link
	for rows.Next() {
		var k Link
		if err := rows.Scan(&k.ChatID, &k.AccountID); err != nil {
			rows.Close()
			return err
		}
		gone = append(gone, k)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	for _, k := range gone {
		if _, err := tx.Exec(ctx, `DELETE FROM telegram_chats WHERE chat_id = ?`, k.ChatID); err != nil {
			return err
		}
		if err := tx.Emit(ctx, store.Event{Kind: EventUnlinked, AccountID: k.AccountID, At: now,
			Data: map[string]string{"chat": strconv.FormatInt(k.ChatID, 10), "reason": reason}}); err != nil {
			return err
		}
	}
	return nil
}

// Unlink ends the account's link, if any; reason is UnlinkPortal and the like.
func (l *Links) Unlink(ctx context.Context, accountID int64, reason string) error {
	now := l.Clock.Now().UTC()
	return l.DB.Write(ctx, func(tx *store.Tx) error {
		return l.unlinkTx(ctx, tx, `account_id = ?`, []any{accountID}, reason, now)
	})
}

// UnlinkChat ends the chat's link, if any.
func (l *Links) UnlinkChat(ctx context.Context, chatID int64, reason string) error {
	now := l.Clock.Now().UTC()
	return l.DB.Write(ctx, func(tx *store.Tx) error {
		return l.unlinkTx(ctx, tx, `chat_id = ?`, []any{chatID}, reason, now)
	})
}

// ChatAddresses is a query of (account_id, chat id as text) rows: where
// each linked account is reached in Telegram, for the notification queue.
const ChatAddresses = `SELECT account_id, CAST(chat_id AS TEXT) AS address FROM telegram_chats`

const linkCols = `chat_id, account_id, username, lang, linked_at`

func scanLink(row *sql.Row) (Link, bool, error) {
	var k Link
	err := row.Scan(&k.ChatID, &k.AccountID, &k.Username, &k.Lang, &k.LinkedAt)
	if errors.Is(err, sql.ErrNoRows) {
		return Link{}, false, nil
	}
	return k, err == nil, err
}

// OfAccount is the account's link, if it has one.
func (l *Links) OfAccount(ctx context.Context, accountID int64) (Link, bool, error) {
	return scanLink(l.DB.QueryRow(ctx, `SELECT `+linkCols+` FROM telegram_chats WHERE account_id = ?`, accountID))
}

// OfChat is the chat's link, if it has one.
func (l *Links) OfChat(ctx context.Context, chatID int64) (Link, bool, error) {
	return scanLink(l.DB.QueryRow(ctx, `SELECT `+linkCols+` FROM telegram_chats WHERE chat_id = ?`, chatID))
}
