package support

import (
	"context"
	"fmt"
	"time"
)

// Conversation is one subscriber's chat as the consultants' list shows it.
type Conversation struct {
	AccountID int64
	Login     string
	LastAt    time.Time
	LastBody  string
	Waiting   bool // the last word is the subscriber's: someone should answer
}

// Conversations lists chats by their latest message, newest first.
func (s *Service) Conversations(ctx context.Context, limit int) ([]Conversation, error) {
	if limit <= 0 || limit > 500 {
		limit = 100
	}
	rows, err := s.DB.Query(ctx, `SELECT m.account_id, a.login, m.created_at, m.body, m.author FROM chat_messages m
		JOIN accounts a ON a.id = m.account_id
		WHERE m.id = (SELECT MAX(id) FROM chat_messages x WHERE x.account_id = m.account_id)
		ORDER BY m.id DESC LIMIT ?`, limit)
	if err != nil {
		return nil, fmt.Errorf("conversations: %w", err)
	}
	defer rows.Close()
	var out []Conversation
	for rows.Next() {
		var c Conversation
		var author string
		if err := rows.Scan(&c.AccountID, &c.Login, &c.LastAt, &c.LastBody, &author); err != nil {
			return nil, fmt.Errorf("conversations: %w", err)
		}
		c.Waiting = author == AuthorSubscriber
		out = append(out, c)
	}
	return out, rows.Err()
}
