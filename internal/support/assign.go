package support

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/kabinet-billing/kabinet/internal/derrors"
	"github.com/kabinet-billing/kabinet/internal/store"
)

// Assign makes operator the one who handles request id ("" unassigns),
// inside tx; it returns who did before ("" when nobody).
func Assign(ctx context.Context, tx *store.Tx, now time.Time, id int64, operator string) (before string, err error) {
	operator = strings.TrimSpace(operator)
	var n int
	if err := tx.QueryRow(ctx, `SELECT COUNT(*) FROM support_requests WHERE id = ?`, id).Scan(&n); err != nil {
		return "", fmt.Errorf("assign request %d: %w", id, err)
	}
	if n == 0 {
		return "", fmt.Errorf("request %d: %w", id, derrors.NotFound)
	}
	if err := tx.QueryRow(ctx, `SELECT COALESCE(MAX(operator), '') FROM support_assignments WHERE request_id = ?`, id).Scan(&before); err != nil {
		return "", fmt.Errorf("assign request %d: %w", id, err)
	}
	if operator == "" {
		_, err = tx.Exec(ctx, `DELETE FROM support_assignments WHERE request_id = ?`, id)
	} else {
		_, err = tx.Exec(ctx, `INSERT INTO support_assignments (request_id, operator, assigned_at) VALUES (?, ?, ?)
			ON CONFLICT (request_id) DO UPDATE SET operator = excluded.operator, assigned_at = excluded.assigned_at`, id, operator, now.UTC())
	}
	if err != nil {
		return "", fmt.Errorf("assign request %d: %w", id, err)
	}
	return before, nil
}

// Assignees tells who handles each open request: request id → operator.
func (s *Service) Assignees(ctx context.Context) (map[int64]string, error) {
	rows, err := s.DB.Query(ctx, `SELECT a.request_id, a.operator FROM support_assignments a JOIN support_requests r ON r.id = a.request_id
		WHERE r.status IN (?, ?)`, StatusNew, StatusInProgress)
	if err != nil {
		return nil, fmt.Errorf("assignees: %w", err)
	}
	defer rows.Close()
	out := map[int64]string{}
	for rows.Next() {
		var id int64
		var op string
		if err := rows.Scan(&id, &op); err != nil {
			return nil, fmt.Errorf("assignees: %w", err)
		}
		out[id] = op
	}
	return out, rows.Err()
}

// Assignee tells who handles request id ("" when nobody).
func (s *Service) Assignee(ctx context.Context, id int64) (string, error) {
	var op string
	err := s.DB.QueryRow(ctx, `SELECT COALESCE(MAX(operator), '') FROM support_assignments WHERE request_id = ?`, id).Scan(&op)
	return op, err
}
