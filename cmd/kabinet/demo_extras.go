package main

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/kabinet-billing/kabinet/internal/clock"
	"github.com/kabinet-billing/kabinet/internal/content"
	"github.com/kabinet-billing/kabinet/internal/derrors"
	"github.com/kabinet-billing/kabinet/internal/operator"
	"github.com/kabinet-billing/kabinet/internal/store"
	"github.com/kabinet-billing/kabinet/internal/subscriber"
	"github.com/kabinet-billing/kabinet/internal/support"
)

// seedDemoExtras seeds what the other parts show: news and promotions, the
// back office's staff, a request and a chat.
func seedDemoExtras(ctx context.Context, e *env, clk clock.Clock, dir *subscriber.Directory) error {
	now := clk.Now()
	items := []content.Item{
		{Kind: content.KindNews, Title: "Плановые работы 3 декабря", TitleEn: "Planned maintenance on December 3",
			Body:   "С 02:00 до 04:00 возможны кратковременные перерывы связи в Заволжском районе Твери.",
			BodyEn: "From 02:00 to 04:00 short outages are possible in Tver's Zavolzhsky district.", PublishedAt: now.AddDate(0, 0, -2)},
		{Kind: content.KindNews, Title: "Новые каналы в пакете «Базовый»", TitleEn: "New channels in TV Basic",
			Body: "В пакет добавлены 8 каналов в HD — без доплаты.", BodyEn: "Eight HD channels were added at no extra cost.", PublishedAt: now.AddDate(0, 0, -10)},
		{Kind: content.KindPromo, Title: "Турбо ×2 за полцены по выходным", TitleEn: "Turbo ×2 at half price on weekends",
			Body: "Ускорение на 24 часа — 25 ₽ в субботу и воскресенье до конца декабря.", BodyEn: "A 24-hour boost for 25 ₽ on Saturdays and Sundays until the end of December.",
			PublishedAt: now.AddDate(0, 0, -5), ExpiresAt: now.AddDate(0, 1, 0)},
		{Kind: content.KindPromo, Title: "Приведи друга — месяц бесплатно", TitleEn: "Bring a friend — a month free",
			Body: "Друг подключается, вы оба получаете месяц интернета в подарок.", BodyEn: "Your friend connects and you both get a month of internet free.",
			PublishedAt: now.AddDate(0, -1, 0), ExpiresAt: now.AddDate(0, 2, 0)},
	}
	for _, it := range items {
		if _, err := content.Add(ctx, e.db, it, now); err != nil {
			return err
		}
	}
	ops := operator.New(e.db, clk)
	for _, o := range []operator.NewOperator{
		{Login: "admin", Name: "Администратор", Role: operator.RoleAdmin, Password: demoOperatorPassword},
		{Login: "kassa", Name: "Кассир Тверь", Role: operator.RoleCashier, Password: demoOperatorPassword},
		{Login: "support", Name: "Поддержка", Role: operator.RoleSupport, Password: demoOperatorPassword},
		{Login: "manager", Name: "Менеджер", Role: operator.RoleManager, Password: demoOperatorPassword},
	} {
		if _, err := ops.Add(ctx, operator.Actor{Login: "demo"}, o); err != nil {
			return err
		}
	}
	demo, err := dir.ByLogin(ctx, "demo")
	if err != nil {
		return err
	}
	sup := support.New(e.db, clk)
	req, err := sup.File(ctx, demo.ID, support.KindQuestion, "Не работает IPTV на второй приставке", "Вторая приставка показывает «нет сигнала», первая работает.")
	if err != nil {
		return err
	}
	if err := sup.Answer(ctx, req.ID, "support", "Здравствуйте! Перезагрузите приставку; если не поможет — пришлём мастера.", support.StatusInProgress); err != nil {
		return err
	}
	if _, err := sup.Say(ctx, demo.ID, "Добрый день, подскажите, как подключить статический IP?"); err != nil {
		return err
	}
	if _, err = sup.Respond(ctx, demo.ID, "support", "Здравствуйте! В разделе «Услуги» — «Статический IP-адрес», 150 ₽ в месяц."); err != nil {
		return err
	}
	return seedDemoAutopay(ctx, e, clk, dir)
}

// seedDemoAutopay gives some subscribers (user0010, user0020, …) a card
// saved at the sandbox with autopay on or off and last month's charge, so
// that the back office's autopay page has rows to show.
func seedDemoAutopay(ctx context.Context, e *env, clk clock.Clock, dir *subscriber.Directory) error {
	now := clk.Now().UTC()
	period := now.AddDate(0, 0, -now.Day()+1).Format("2006-01")
	accounts := map[int]int64{}
	for i := 10; i <= 300; i += 10 {
		a, err := dir.ByLogin(ctx, fmt.Sprintf("user%04d", i))
		if errors.Is(err, derrors.NotFound) {
			continue
		}
		if err != nil {
			return err
		}
		accounts[i] = a.ID
	}
	return e.db.Write(ctx, func(tx *store.Tx) error {
		for i := 10; i <= 300; i += 10 {
			acct, ok := accounts[i]
			if !ok {
				continue
			}
			var method int64
			if err := tx.QueryRow(ctx, `INSERT INTO saved_methods (account_id, processor, token, masked, expiry, title, created_at)
				VALUES (?, 'sandbox', ?, ?, '09/29', ?, ?) RETURNING id`, acct, fmt.Sprintf("demo-card-%d", i),
				fmt.Sprintf("•••• %04d", 1000+i*7%9000), []string{"Visa", "MasterCard", "Мир"}[i/10%3], now).Scan(&method); err != nil {
				return err
			}
			on, rule, fixed, off := i%70 != 0, "recommended", int64(0), ""
			if i%30 == 0 {
				rule, fixed = "fixed", int64(100000)
			}
			if i == 140 {
				off = "card_expired"
			}
			if _, err := tx.Exec(ctx, `INSERT INTO autopay (account_id, method_id, enabled, amount_rule, fixed_amount, off_reason, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)`,
				acct, method, on, rule, fixed, off, now.Add(-time.Duration(i)*time.Hour)); err != nil {
				return err
			}
			status, reason, attempts := "succeeded", "", 1
			switch {
			case i == 140:
				status, reason = "failed", "card_expired"
			case i%50 == 0:
				status, reason, attempts = "failed", "insufficient_funds", 3
			}
			if _, err := tx.Exec(ctx, `INSERT INTO autopay_charges (account_id, period, method_id, amount, status, attempts, next_attempt_at, reason, created_at, updated_at)
				VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, acct, period, method, 60000, status, attempts, now, reason, now, now); err != nil {
				return err
			}
		}
		return nil
	})
}
