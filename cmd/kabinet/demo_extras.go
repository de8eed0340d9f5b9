package main

import (
	"context"

	"github.com/kabinet-billing/kabinet/internal/clock"
	"github.com/kabinet-billing/kabinet/internal/content"
	"github.com/kabinet-billing/kabinet/internal/operator"
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
	_, err = sup.Respond(ctx, demo.ID, "support", "Здравствуйте! В разделе «Услуги» — «Статический IP-адрес», 150 ₽ в месяц.")
	return err
}
