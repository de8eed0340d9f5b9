package support

import (
	"context"
	"fmt"
	"time"

	"github.com/kabinet-billing/kabinet/internal/store"
)

// Say adds the subscriber's chat message.
func (s *Service) Say(ctx context.Context, accountID int64, body string) (m Message, err error) {
	err = s.DB.Write(ctx, func(tx *store.Tx) error {
		m, err = chat(ctx, tx, s.Clock.Now(), accountID, AuthorSubscriber, "", body)
		return err
	})
	return m, err
}

// Respond adds a consultant's chat message to the account's conversation.
func (s *Service) Respond(ctx context.Context, accountID int64, operator, body string) (m Message, err error) {
	err = s.DB.Write(ctx, func(tx *store.Tx) error {
		m, err = Respond(ctx, tx, s.Clock.Now(), accountID, operator, body)
		return err
	})
	return m, err
}

// Respond is Service.Respond inside tx, for a caller that writes more in
// the same transaction (the back office, its audit entry).
func Respond(ctx context.Context, tx *store.Tx, now time.Time, accountID int64, operator, body string) (Message, error) {
	return chat(ctx, tx, now, accountID, AuthorOperator, operator, body)
}

func chat(ctx context.Context, tx *store.Tx, now time.Time, accountID int64, author, operator, body string) (Message, error) {
	m := Message{Author: author, Operator: operator, CreatedAt: now}
	var err error
	if m.Body, err = cleanText(body, 2000); err != nil {
		return m, fmt.Errorf("chat message: %w", err)
	}
	err = tx.QueryRow(ctx, `INSERT INTO chat_messages (account_id, author, operator, body, created_at) VALUES (?, ?, ?, ?, ?) RETURNING id`,
		accountID, author, operator, m.Body, now.UTC()).Scan(&m.ID)
	if err != nil {
		return m, fmt.Errorf("chat of %d: %w", accountID, err)
	}
	return m, nil
}

// Chat returns the account's chat messages after afterID (0: the last 100),
// oldest first. Pages poll it with the last id they have, so that each poll
// reads only what is new.
func (s *Service) Chat(ctx context.Context, accountID, afterID int64) ([]Message, error) {
	q := `SELECT id, author, operator, body, created_at FROM chat_messages WHERE account_id = ? AND id > ? ORDER BY id LIMIT 100`
	if afterID == 0 {
		q = `SELECT id, author, operator, body, created_at FROM (SELECT id, author, operator, body, created_at FROM chat_messages
			WHERE account_id = ? AND id > ? ORDER BY id DESC LIMIT 100) t ORDER BY id`
	}
	rows, err := s.DB.Query(ctx, q, accountID, afterID)
	if err != nil {
		return nil, fmt.Errorf("chat of %d: %w", accountID, err)
	}
	defer rows.Close()
	var out []Message
	for rows.Next() {
		var m Message
		if err := rows.Scan(&m.ID, &m.Author, &m.Operator, &m.Body, &m.CreatedAt); err != nil {
			return nil, fmt.Errorf("chat of %d: %w", accountID, err)
		}
		out = append(out, m)
	}
	return out, rows.Err()
}
