package subscriber_test

import (
	"context"
	"testing"
	"time"

	"github.com/kabinet-billing/kabinet/internal/billing"
	"github.com/kabinet-billing/kabinet/internal/clock"
	"github.com/kabinet-billing/kabinet/internal/store"
	"github.com/kabinet-billing/kabinet/internal/store/storetest"
	"github.com/kabinet-billing/kabinet/internal/subscriber"
)

// An operator types a name or street as it comes, in any case: Cyrillic
// matches regardless of case on both databases, and names sort as a person
// expects ("ёлкина" among the others, "Абрамов" before "борисов").
func TestSearchIgnoresCaseInRussian(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		clk := clock.NewFake(time.Date(2026, 3, 10, 9, 0, 0, 0, time.UTC))
		sealer, _ := subscriber.NewSealer(make([]byte, 32))
		b := billing.New(db, clk, billing.DefaultRules())
		storetest.AddSubscriber(t, db, storetest.Subscriber{Login: "seed"}) // makes the tariff "base"
		dir := subscriber.New(db, clk, sealer, b)
		for _, n := range []subscriber.NewAccount{
			{Login: "petrova", Name: "Петрова Анна", Address: "г. Тверь, ул. Советская, 5"},
			{Login: "borisov", Name: "борисов олег", Address: "г. Тверь, ПРОСПЕКТ ЧАЙКОВСКОГО, 1"},
			{Login: "abramov", Name: "Абрамов Иван", Address: "г. Тверь, ул. Мира, 2"},
		} {
			n.Password, n.Tariff = "Passw0rd-long", "base"
			if _, err := dir.Create(ctx, n); err != nil {
				t.Fatal(err)
			}
		}
		for q, want := range map[string]string{"петрова": "petrova", "ПЕТРОВА": "petrova", "Борисов": "borisov",
			"проспект чайковского": "borisov", "УЛ. МИРА": "abramov"} {
			got, err := dir.Search(ctx, q, 10)
			if err != nil || len(got) != 1 || got[0].Login != want {
				t.Errorf("search %q: %+v, %v; want %s", q, got, err, want)
			}
		}
		list, _, err := dir.List(ctx, subscriber.ListQuery{Q: "тверь", Sort: "name"})
		if err != nil {
			t.Fatal(err)
		}
		var order []string
		for _, a := range list {
			order = append(order, a.Login)
		}
		if len(order) != 3 || order[0] != "abramov" || order[1] != "borisov" || order[2] != "petrova" {
			t.Errorf("sorted by name: %v", order)
		}
	})
}
