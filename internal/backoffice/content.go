package backoffice

import (
	"context"
	"fmt"
	"time"

	"github.com/kabinet-billing/kabinet/internal/content"
	"github.com/kabinet-billing/kabinet/internal/operator"
	"github.com/kabinet-billing/kabinet/internal/store"
)

func contentObject(id int64) string { return fmt.Sprintf("content:%d", id) }

// AddContent publishes news or a promotion.
func (o *Office) AddContent(ctx context.Context, w Who, i content.Item) (content.Item, error) {
	if err := w.must(operator.EditContent); err != nil {
		return i, err
	}
	err := o.audited(ctx, w, func(tx *store.Tx) (operator.Entry, error) {
		var err error
		i, err = content.AddTx(ctx, tx, i, o.Clock.Now())
		return operator.Entry{Action: "content.add", Object: contentObject(i.ID), After: i}, err
	})
	return i, err
}

// UpdateContent changes an item's title, text, dates, kind and city.
func (o *Office) UpdateContent(ctx context.Context, w Who, i content.Item) error {
	if err := w.must(operator.EditContent); err != nil {
		return err
	}
	return o.audited(ctx, w, func(tx *store.Tx) (operator.Entry, error) {
		before, err := content.ByIDTx(ctx, tx, i.ID)
		if err != nil {
			return operator.Entry{}, err
		}
		if err := content.UpdateTx(ctx, tx, i); err != nil {
			return operator.Entry{}, err
		}
		return operator.Entry{Action: "content.update", Object: contentObject(i.ID), Before: before, After: i}, nil
	})
}

// ExpireContent takes an item off the site now and keeps it in the list.
// An item not yet published is expired as of now too, so it never shows.
func (o *Office) ExpireContent(ctx context.Context, w Who, id int64) error {
	if err := w.must(operator.EditContent); err != nil {
		return err
	}
	now := o.Clock.Now()
	return o.audited(ctx, w, func(tx *store.Tx) (operator.Entry, error) {
		before, err := content.ByIDTx(ctx, tx, id)
		if err != nil {
			return operator.Entry{}, err
		}
		after := before
		after.ExpiresAt = now
		if !now.After(after.PublishedAt) {
			after.PublishedAt = now.Add(-time.Second)
		}
		if err := content.UpdateTx(ctx, tx, after); err != nil {
			return operator.Entry{}, err
		}
		return operator.Entry{Action: "content.expire", Object: contentObject(id), Before: before, After: after}, nil
	})
}

// DeleteContent removes an item; the audit entry keeps what it said.
func (o *Office) DeleteContent(ctx context.Context, w Who, id int64) error {
	if err := w.must(operator.EditContent); err != nil {
		return err
	}
	return o.audited(ctx, w, func(tx *store.Tx) (operator.Entry, error) {
		before, err := content.ByIDTx(ctx, tx, id)
		if err != nil {
			return operator.Entry{}, err
		}
		return operator.Entry{Action: "content.delete", Object: contentObject(id), Before: before}, content.DeleteTx(ctx, tx, id)
	})
}
