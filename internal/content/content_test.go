package content_test

import (
	"context"
	"testing"
	"time"

	"github.com/kabinet-billing/kabinet/internal/billing"
	"github.com/kabinet-billing/kabinet/internal/content"
	"github.com/kabinet-billing/kabinet/internal/store"
	"github.com/kabinet-billing/kabinet/internal/store/storetest"
)

func TestCurrent(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		now := time.Date(2026, 3, 15, 12, 0, 0, 0, time.UTC)
		tver, _ := billing.AddCity(ctx, db, billing.City{Code: "tver", Name: "Тверь"})
		other, _ := billing.AddCity(ctx, db, billing.City{Code: "torzhok", Name: "Торжок"})
		for _, it := range []content.Item{
			{Kind: "news", Title: "all", Body: "b", PublishedAt: now.Add(-time.Hour)},
			{Kind: "promo", Title: "tver", Body: "b", CityID: tver.ID, PublishedAt: now.Add(-2 * time.Hour)},
			{Kind: "news", Title: "torzhok", Body: "b", CityID: other.ID, PublishedAt: now.Add(-time.Hour)},
			{Kind: "news", Title: "future", Body: "b", PublishedAt: now.Add(time.Hour)},
			{Kind: "promo", Title: "expired", Body: "b", PublishedAt: now.Add(-48 * time.Hour), ExpiresAt: now.Add(-time.Hour)},
		} {
			if _, err := content.Add(ctx, db, it, now); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := content.Add(ctx, db, content.Item{Kind: "x", Title: "t", Body: "b", PublishedAt: now}, now); err == nil {
			t.Error("a bad kind was accepted")
		}
		for _, tc := range []struct {
			city int64
			kind string
			want []string
		}{
			{tver.ID, "", []string{"all", "tver"}},
			{other.ID, "", []string{"torzhok", "all"}}, // same date: newer id first
			{0, "", []string{"all"}},
			{tver.ID, "promo", []string{"tver"}},
		} {
			got, err := content.Current(ctx, db, tc.city, tc.kind, now, 10)
			if err != nil {
				t.Fatal(err)
			}
			var titles []string
			for _, i := range got {
				titles = append(titles, i.Title)
			}
			if len(titles) != len(tc.want) {
				t.Fatalf("city %d kind %q: %v, want %v", tc.city, tc.kind, titles, tc.want)
			}
			for i := range titles {
				if titles[i] != tc.want[i] {
					t.Fatalf("city %d kind %q: %v, want %v", tc.city, tc.kind, titles, tc.want)
				}
			}
		}
	})
}
