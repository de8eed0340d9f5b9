// Package content keeps news and promotions: each shown from its publish
// date until it expires, to every city or to one.
package content

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"github.com/kabinet-billing/kabinet/internal/derrors"
	"github.com/kabinet-billing/kabinet/internal/store"
)

// Kinds of items.
const (
	KindNews  = "news"
	KindPromo = "promo"
)

// Item is a piece of news or a promotion.
type Item struct {
	ID          int64
	Kind        string
	Title       string
	TitleEn     string
	Body        string
	BodyEn      string
	CityID      int64     // 0: every city
	PublishedAt time.Time // not shown before
	ExpiresAt   time.Time // zero: never expires
}

// TitleIn and BodyIn pick the language, falling back to Russian where the
// English text was not written.
func (i Item) TitleIn(lang string) string {
	if lang == "en" && i.TitleEn != "" {
		return i.TitleEn
	}
	return i.Title
}

func (i Item) BodyIn(lang string) string {
	if lang == "en" && i.BodyEn != "" {
		return i.BodyEn
	}
	return i.Body
}

func nullable(id int64) any {
	if id == 0 {
		return nil
	}
	return id
}

func nullTime(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.UTC()
}

func (i Item) check() error {
	if i.Kind != KindNews && i.Kind != KindPromo {
		return fmt.Errorf("content kind %q: %w", i.Kind, derrors.Invalid)
	}
	if strings.TrimSpace(i.Title) == "" || strings.TrimSpace(i.Body) == "" || i.PublishedAt.IsZero() {
		return fmt.Errorf("content needs a title, a text and a publish date: %w", derrors.Invalid)
	}
	if !i.ExpiresAt.IsZero() && !i.ExpiresAt.After(i.PublishedAt) {
		return fmt.Errorf("content expires before it is published: %w", derrors.Invalid)
	}
	return nil
}

// Add stores an item.
func Add(ctx context.Context, db *store.DB, i Item, now time.Time) (Item, error) {
	err := db.Write(ctx, func(tx *store.Tx) error {
		var err error
		i, err = AddTx(ctx, tx, i, now)
		return err
	})
	return i, err
}

// AddTx is Add inside tx: the back office writes the item and its audit
// entry in one commit.
func AddTx(ctx context.Context, tx *store.Tx, i Item, now time.Time) (Item, error) {
	if err := i.check(); err != nil {
		return i, err
	}
	err := tx.QueryRow(ctx, `INSERT INTO content_items (kind, title, title_en, body, body_en, city_id, published_at, expires_at, created_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`, i.Kind, i.Title, i.TitleEn, i.Body, i.BodyEn, nullable(i.CityID),
		i.PublishedAt.UTC(), nullTime(i.ExpiresAt), now.UTC()).Scan(&i.ID)
	if err != nil {
		return i, fmt.Errorf("add content: %w", err)
	}
	return i, nil
}

// Update replaces an item's fields.
func Update(ctx context.Context, db *store.DB, i Item) error {
	return db.Write(ctx, func(tx *store.Tx) error { return UpdateTx(ctx, tx, i) })
}

// UpdateTx is Update inside tx.
func UpdateTx(ctx context.Context, tx *store.Tx, i Item) error {
	if err := i.check(); err != nil {
		return err
	}
	res, err := tx.Exec(ctx, `UPDATE content_items SET kind = ?, title = ?, title_en = ?, body = ?, body_en = ?, city_id = ?, published_at = ?, expires_at = ? WHERE id = ?`,
		i.Kind, i.Title, i.TitleEn, i.Body, i.BodyEn, nullable(i.CityID), i.PublishedAt.UTC(), nullTime(i.ExpiresAt), i.ID)
	if err != nil {
		return fmt.Errorf("update content %d: %w", i.ID, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("content %d: %w", i.ID, derrors.NotFound)
	}
	return nil
}

// Delete removes an item (content is not money: nothing to keep).
func Delete(ctx context.Context, db *store.DB, id int64) error {
	return db.Write(ctx, func(tx *store.Tx) error { return DeleteTx(ctx, tx, id) })
}

// DeleteTx is Delete inside tx; deleting an item that is not there is
// derrors.NotFound, so an audit entry never records a deletion that did nothing.
func DeleteTx(ctx context.Context, tx *store.Tx, id int64) error {
	res, err := tx.Exec(ctx, `DELETE FROM content_items WHERE id = ?`, id)
	if err != nil {
		return fmt.Errorf("delete content %d: %w", id, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("content %d: %w", id, derrors.NotFound)
	}
	return nil
}

// ByIDTx reads one item inside tx (the state an audit entry's "before" shows).
func ByIDTx(ctx context.Context, tx *store.Tx, id int64) (Item, error) {
	rows, err := tx.Query(ctx, `SELECT `+cols+` FROM content_items WHERE id = ?`, id)
	if err != nil {
		return Item{}, fmt.Errorf("content %d: %w", id, err)
	}
	return one(rows, id)
}

// ByID reads one item.
func ByID(ctx context.Context, db *store.DB, id int64) (Item, error) {
	rows, err := db.Query(ctx, `SELECT `+cols+` FROM content_items WHERE id = ?`, id)
	if err != nil {
		return Item{}, fmt.Errorf("content %d: %w", id, err)
	}
	return one(rows, id)
}

func one(rows *sql.Rows, id int64) (Item, error) {
	items, err := scan(rows)
	if err != nil {
		return Item{}, fmt.Errorf("content %d: %w", id, err)
	}
	if len(items) == 0 {
		return Item{}, fmt.Errorf("content %d: %w", id, derrors.NotFound)
	}
	return items[0], nil
}

const cols = `id, kind, title, title_en, body, body_en, city_id, published_at, expires_at`

func scan(rows *sql.Rows) ([]Item, error) {
	defer rows.Close()
	var out []Item
	for rows.Next() {
		var i Item
		var city sql.NullInt64
		var exp sql.NullTime
		if err := rows.Scan(&i.ID, &i.Kind, &i.Title, &i.TitleEn, &i.Body, &i.BodyEn, &city, &i.PublishedAt, &exp); err != nil {
			return nil, err
		}
		i.CityID, i.ExpiresAt = city.Int64, exp.Time
		out = append(out, i)
	}
	return out, rows.Err()
}

// Current lists items visible at now in cityID (0: only those for every
// city), newest first; kind "" gives both kinds.
func Current(ctx context.Context, db *store.DB, cityID int64, kind string, now time.Time, limit int) ([]Item, error) {
	if limit <= 0 {
		limit = 10
	}
	rows, err := db.Query(ctx, `SELECT `+cols+` FROM content_items
		WHERE published_at <= ? AND (expires_at IS NULL OR expires_at > ?) AND (city_id IS NULL OR city_id = ?) AND (? = '' OR kind = ?)
		ORDER BY published_at DESC, id DESC LIMIT ?`, now.UTC(), now.UTC(), cityID, kind, kind, limit)
	if err != nil {
		return nil, fmt.Errorf("current content: %w", err)
	}
	out, err := scan(rows)
	if err != nil {
		return nil, fmt.Errorf("current content: %w", err)
	}
	return out, nil
}

// All lists every item, newest first: the back office's list.
func All(ctx context.Context, db *store.DB, limit int) ([]Item, error) {
	if limit <= 0 {
		limit = 200
	}
	rows, err := db.Query(ctx, `SELECT `+cols+` FROM content_items ORDER BY published_at DESC, id DESC LIMIT ?`, limit)
	if err != nil {
		return nil, fmt.Errorf("content: %w", err)
	}
	out, err := scan(rows)
	if err != nil {
		return nil, fmt.Errorf("content: %w", err)
	}
	return out, nil
}
