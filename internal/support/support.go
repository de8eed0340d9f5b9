// Package support keeps what subscribers and visitors ask of the provider:
// requests with statuses and operators' answers, the consultant chat, and
// connection applications left on the public site. The portal files and
// reads them; the back office answers them.
package support

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/kabinet-billing/kabinet/internal/clock"
	"github.com/kabinet-billing/kabinet/internal/derrors"
	"github.com/kabinet-billing/kabinet/internal/store"
)

// Request kinds.
const (
	KindQuestion   = "question"
	KindFault      = "fault"
	KindConnect    = "connect"    // connect a package
	KindDisconnect = "disconnect" // disconnect a package
	KindOther      = "other"
)

// Kinds lists the request kinds in the order a form offers them.
var Kinds = []string{KindQuestion, KindFault, KindConnect, KindDisconnect, KindOther}

// Request statuses.
const (
	StatusNew        = "new"
	StatusInProgress = "in_progress"
	StatusAnswered   = "answered"
	StatusClosed     = "closed"
)

// Authors of messages.
const (
	AuthorSubscriber = "subscriber"
	AuthorOperator   = "operator"
)

// MaxBody bounds a message: long enough for a fault description, short
// enough that one form cannot fill the database.
const MaxBody = 4000

// Service files and reads requests, chat and applications.
type Service struct {
	DB    *store.DB
	Clock clock.Clock
}

// New makes a Service.
func New(db *store.DB, clk clock.Clock) *Service {
	if clk == nil {
		clk = clock.System
	}
	return &Service{DB: db, Clock: clk}
}

// Message is one entry of a request's thread or of the chat.
type Message struct {
	ID        int64
	Author    string
	Operator  string
	Body      string
	CreatedAt time.Time
}

// FromOperator tells whether the provider wrote it.
func (m Message) FromOperator() bool { return m.Author == AuthorOperator }

// Request is a subscriber's request with its thread, oldest message first.
type Request struct {
	ID        int64
	AccountID int64
	Kind      string
	Subject   string
	Status    string
	CreatedAt time.Time
	UpdatedAt time.Time
	Messages  []Message
}

func cleanText(s string, max int) (string, error) {
	s = strings.TrimSpace(s)
	if s == "" || utf8.RuneCountInString(s) > max || !utf8.ValidString(s) {
		return "", derrors.Invalid
	}
	return s, nil
}

func validKind(k string) bool {
	for _, x := range Kinds {
		if x == k {
			return true
		}
	}
	return false
}

// File opens a request for the account with its first message.
func (s *Service) File(ctx context.Context, accountID int64, kind, subject, body string) (Request, error) {
	r := Request{AccountID: accountID, Kind: kind, Status: StatusNew}
	if !validKind(kind) {
		return r, derrors.Invalidf("kind", "", "request kind %q", kind)
	}
	var err error
	if r.Subject, err = cleanText(subject, 200); err != nil {
		return r, derrors.Invalidf("subject", "", "request subject: empty or longer than 200")
	}
	if body, err = cleanText(body, MaxBody); err != nil {
		return r, derrors.Invalidf("body", "", "request text: empty or longer than %d", MaxBody)
	}
	now := s.Clock.Now()
	r.CreatedAt, r.UpdatedAt = now, now
	err = s.DB.Write(ctx, func(tx *store.Tx) error {
		if err := tx.QueryRow(ctx, `INSERT INTO support_requests (account_id, kind, subject, status, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?) RETURNING id`,
			accountID, kind, r.Subject, r.Status, now.UTC(), now.UTC()).Scan(&r.ID); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `INSERT INTO support_messages (request_id, author, body, created_at) VALUES (?, ?, ?, ?)`, r.ID, AuthorSubscriber, body, now.UTC())
		return err
	})
	if err != nil {
		return r, fmt.Errorf("file request of %d: %w", accountID, err)
	}
	r.Messages = []Message{{Author: AuthorSubscriber, Body: body, CreatedAt: now}}
	return r, nil
}

// Requests lists the account's requests, newest first, without threads.
func (s *Service) Requests(ctx context.Context, accountID int64) ([]Request, error) {
	rows, err := s.DB.Query(ctx, `SELECT id, account_id, kind, subject, status, created_at, updated_at FROM support_requests
		WHERE account_id = ? ORDER BY created_at DESC, id DESC LIMIT 200`, accountID)
	if err != nil {
		return nil, fmt.Errorf("requests of %d: %w", accountID, err)
	}
	defer rows.Close()
	var out []Request
	for rows.Next() {
		var r Request
		if err := rows.Scan(&r.ID, &r.AccountID, &r.Kind, &r.Subject, &r.Status, &r.CreatedAt, &r.UpdatedAt); err != nil {
			return nil, fmt.Errorf("requests of %d: %w", accountID, err)
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// RequestOf returns the account's request id with its thread; another
// account's request is derrors.NotFound, the same as a missing one.
func (s *Service) RequestOf(ctx context.Context, accountID, id int64) (Request, error) {
	return s.request(ctx, `SELECT id, account_id, kind, subject, status, created_at, updated_at FROM support_requests WHERE id = ? AND account_id = ?`, id, accountID)
}

// Request returns request id with its thread, whoever filed it: the back
// office's lookup.
func (s *Service) Request(ctx context.Context, id int64) (Request, error) {
	return s.request(ctx, `SELECT id, account_id, kind, subject, status, created_at, updated_at FROM support_requests WHERE id = ?`, id)
}

func (s *Service) request(ctx context.Context, q string, id int64, args ...any) (Request, error) {
	var r Request
	err := s.DB.QueryRow(ctx, q, append([]any{id}, args...)...).Scan(&r.ID, &r.AccountID, &r.Kind, &r.Subject, &r.Status, &r.CreatedAt, &r.UpdatedAt)
	if errors.Is(err, sql.ErrNoRows) {
		return r, fmt.Errorf("request %d: %w", id, derrors.NotFound)
	}
	if err != nil {
		return r, fmt.Errorf("request %d: %w", id, err)
	}
	rows, err := s.DB.Query(ctx, `SELECT id, author, operator, body, created_at FROM support_messages WHERE request_id = ? ORDER BY id`, id)
	if err != nil {
		return r, fmt.Errorf("request %d: %w", id, err)
	}
	defer rows.Close()
	for rows.Next() {
		var m Message
		if err := rows.Scan(&m.ID, &m.Author, &m.Operator, &m.Body, &m.CreatedAt); err != nil {
			return r, fmt.Errorf("request %d: %w", id, err)
		}
		r.Messages = append(r.Messages, m)
	}
	return r, rows.Err()
}

// Reply adds the subscriber's message to their own request; it reopens an
// answered request so that an operator looks again.
func (s *Service) Reply(ctx context.Context, accountID, id int64, body string) error {
	body, err := cleanText(body, MaxBody)
	if err != nil {
		return fmt.Errorf("message: %w", err)
	}
	now := s.Clock.Now()
	err = s.DB.Write(ctx, func(tx *store.Tx) error {
		res, err := tx.Exec(ctx, `UPDATE support_requests SET status = ?, updated_at = ? WHERE id = ? AND account_id = ? AND status <> ?`,
			StatusNew, now.UTC(), id, accountID, StatusClosed)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return derrors.NotFound
		}
		return addMessage(ctx, tx, now, id, AuthorSubscriber, "", body)
	})
	if err != nil {
		return fmt.Errorf("message to request %d: %w", id, err)
	}
	return nil
}

// Answer adds an operator's answer and sets the status (answered by
// default). Any account's request may be answered.
func (s *Service) Answer(ctx context.Context, id int64, operator, body, status string) error {
	return s.DB.Write(ctx, func(tx *store.Tx) error {
		_, _, err := Answer(ctx, tx, s.Clock.Now(), id, operator, body, status)
		return err
	})
}

// Answer is Service.Answer inside tx, for a caller that writes more in the
// same transaction (the back office, its audit entry); it returns the
// request's status before the answer and the one set.
func Answer(ctx context.Context, tx *store.Tx, now time.Time, id int64, operator, body, status string) (before, after string, err error) {
	if status == "" {
		status = StatusAnswered
	}
	switch status {
	case StatusNew, StatusInProgress, StatusAnswered, StatusClosed:
	default:
		return "", "", fmt.Errorf("request status %q: %w", status, derrors.Invalid)
	}
	if body, err = cleanText(body, MaxBody); err != nil {
		return "", "", fmt.Errorf("message: %w", err)
	}
	var accountID int64
	var subject string
	err = tx.QueryRow(ctx, `SELECT status, account_id, subject FROM support_requests WHERE id = ?`, id).Scan(&before, &accountID, &subject)
	if errors.Is(err, sql.ErrNoRows) {
		err = derrors.NotFound
	}
	if err == nil {
		_, err = tx.Exec(ctx, `UPDATE support_requests SET status = ?, updated_at = ? WHERE id = ?`, status, now.UTC(), id)
	}
	if err == nil {
		err = addMessage(ctx, tx, now, id, AuthorOperator, operator, body)
	}
	if err == nil {
		// The subscriber is told (a letter, a push) by whoever follows the
		// events.
		err = tx.Emit(ctx, store.Event{Kind: store.EventRequestAnswered, AccountID: accountID, At: now,
			Data: map[string]string{"request": strconv.FormatInt(id, 10), "subject": subject}})
	}
	if err != nil {
		return "", "", fmt.Errorf("message to request %d: %w", id, err)
	}
	return before, status, nil
}

func addMessage(ctx context.Context, tx *store.Tx, now time.Time, id int64, author, operator, body string) error {
	_, err := tx.Exec(ctx, `INSERT INTO support_messages (request_id, author, operator, body, created_at) VALUES (?, ?, ?, ?, ?)`, id, author, operator, body, now.UTC())
	return err
}

// OpenRequests lists requests waiting for an operator, oldest first: the
// back office's queue.
func (s *Service) OpenRequests(ctx context.Context, limit int) ([]Request, error) {
	if limit <= 0 {
		limit = 100
	}
	rows, err := s.DB.Query(ctx, `SELECT id, account_id, kind, subject, status, created_at, updated_at FROM support_requests
		WHERE status IN (?, ?) ORDER BY updated_at, id LIMIT ?`, StatusNew, StatusInProgress, limit)
	if err != nil {
		return nil, fmt.Errorf("open requests: %w", err)
	}
	defer rows.Close()
	var out []Request
	for rows.Next() {
		var r Request
		if err := rows.Scan(&r.ID, &r.AccountID, &r.Kind, &r.Subject, &r.Status, &r.CreatedAt, &r.UpdatedAt); err != nil {
			return nil, fmt.Errorf("open requests: %w", err)
		}
		out = append(out, r)
	}
	return out, rows.Err()
}
