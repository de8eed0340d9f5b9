package support

import (
	"context"
	"fmt"
	"time"

	"github.com/kabinet-billing/kabinet/internal/billing"
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
	rows, err := s.DB.Query(ctx, `SELECT m.account_id, m.created_at, m.body, m.author FROM chat_messages m
		WHERE m.id = (SELECT MAX(id) FROM chat_messages x WHERE x.account_id = m.account_id)
		ORDER BY m.id DESC LIMIT ?`, limit)
	if err != nil {
		return nil, fmt.Errorf("conversations: %w", err)
	}
	defer rows.Close()
	var out []Conversation
	var ids []int64
	for rows.Next() {
		var c Conversation
		var author string
		if err := rows.Scan(&c.AccountID, &c.LastAt, &c.LastBody, &author); err != nil {
			return nil, fmt.Errorf("conversations: %w", err)
		}
		c.Waiting = author == AuthorSubscriber
		out, ids = append(out, c), append(ids, c.AccountID)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("conversations: %w", err)
	}
	logins, err := billing.Logins(ctx, s.DB, ids)
	if err != nil {
		return nil, fmt.Errorf("conversations: %w", err)
	}
	for i := range out {
		out[i].Login = logins[out[i].AccountID]
	}
	return out, nil
}
