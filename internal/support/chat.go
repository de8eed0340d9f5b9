package support

import (
	"context"
	"fmt"

	"github.com/kabinet-billing/kabinet/internal/store"
)

// Say adds the subscriber's chat message.
func (s *Service) Say(ctx context.Context, accountID int64, body string) (Message, error) {
	return s.chat(ctx, accountID, AuthorSubscriber, "", body)
}

// Respond adds a consultant's chat message to the account's conversation.
func (s *Service) Respond(ctx context.Context, accountID int64, operator, body string) (Message, error) {
	return s.chat(ctx, accountID, AuthorOperator, operator, body)
}

func (s *Service) chat(ctx context.Context, accountID int64, author, operator, body string) (Message, error) {
	m := Message{Author: author, Operator: operator}
	var err error
	if m.Body, err = cleanText(body, 2000); err != nil {
		return m, fmt.Errorf("chat message: %w", err)
	}
	m.CreatedAt = s.Clock.Now()
	err = s.DB.Write(ctx, func(tx *store.Tx) error {
		return tx.QueryRow(ctx, `INSERT INTO chat_messages (account_id, author, operator, body, created_at) VALUES (?, ?, ?, ?, ?) RETURNING id`,
			accountID, author, operator, m.Body, m.CreatedAt.UTC()).Scan(&m.ID)
	})
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
