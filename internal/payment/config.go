package payment

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/netip"
	"net/url"
	"sync"
	"time"

	"github.com/kabinet-billing/kabinet/internal/clock"
	"github.com/kabinet-billing/kabinet/internal/config"
	"github.com/kabinet-billing/kabinet/internal/money"
	"github.com/kabinet-billing/kabinet/internal/netaddr"
)

// Config is the [payment] section of kabinet's config file:
//
//	[payment]
//	default_processor = "chronopay"
//
//	[[payment.processors]]
//	kind = "chronopay"
//	secret = "…"
//	product_id = "004312-0001-0001"
//	security_phone = "+7 495 000-00-00"
//
//	[[payment.osmp]]
//	name = "sberbank"
//	login = "sber"
//	password = "…"
//	allow = ["194.54.14.0/24"]
//	min_sum = "10.00"
//	max_sum = "15000.00"
//
// Its types live in internal/config, which decodes the whole file once.
type Config config.Payment

// OSMPChannelConfig is one bank's or terminal network's settings.
type OSMPChannelConfig = config.OSMPChannel

// RegistryColumns configures a bank's registry layout. Columns are counted
// from 1, as banks' own descriptions count them; 0 keeps the default.
type RegistryColumns = config.RegistryColumns

// registryLayout turns the columns into a RegistryLayout over the default.
func registryLayout(rc RegistryColumns) (RegistryLayout, error) {
	l := DefaultRegistryLayout
	switch rc.Separator {
	case "":
	case ";", ",", "\t", "|":
		l.Comma = rune(rc.Separator[0])
	default:
		return l, fmt.Errorf("registry separator %q: want ; , | or \\t", rc.Separator)
	}
	for _, c := range []struct {
		n   int
		dst *int
	}{{rc.TxnID, &l.TxnID}, {rc.Date, &l.Date}, {rc.Account, &l.Account}, {rc.Sum, &l.Sum}, {rc.TotalCount, &l.TotalCount}, {rc.TotalSum, &l.TotalSum}} {
		if c.n < 0 {
			return l, fmt.Errorf("registry column %d: columns count from 1", c.n)
		}
		if c.n > 0 {
			*c.dst = c.n - 1
		}
	}
	if rc.DateLayout != "" {
		l.DateLayout = rc.DateLayout
	}
	return l, nil
}

// DemoConfig is what `kabinet demo` runs with: the sandbox processor and the
// three example banks, reachable from this machine only.
func DemoConfig() Config {
	local := []string{"127.0.0.1", "::1"}
	return Config{
		DefaultProcessor: "sandbox",
		AllowSandbox:     true,
		CashLimit:        config.Default().Payment.CashLimit,
		Processors: []ProcessorConfig{{Kind: "sandbox", Secret: "demo-sandbox-secret", SecurityPhone: "+7 800 000-00-00",
			Options: map[string]string{"late_after": "30s"}}},
		OSMP: []OSMPChannelConfig{
			{Name: "sberbank", Login: "sberbank", Password: "demo-sberbank", Allow: local, MinSum: "1.00", MaxSum: "15000.00"},
			{Name: "vtb", Login: "vtb", Password: "demo-vtb", Allow: local, MinSum: "1.00", MaxSum: "15000.00"},
			{Name: "localbank", Login: "localbank", Password: "demo-localbank", Allow: local, MinSum: "1.00"},
		},
		// The portal's "How to pay": the same three banks, the terminals
		// and the office.
		HowTo: []config.HowToPay{
			{Name: "Сбербанк Онлайн", NameEn: "Sberbank Online", Steps: "Платежи → Интернет и ТВ → найдите «Сеть-Регион» → номер договора → сумма",
				StepsEn: "Payments → Internet and TV → find “Set-Region” → contract number → amount", Fee: "без комиссии", FeeEn: "no fee", URL: "https://online.sberbank.ru"},
			{Name: "ВТБ Онлайн", NameEn: "VTB Online", Steps: "Платежи → Интернет → «Сеть-Регион» → номер договора",
				StepsEn: "Payments → Internet → “Set-Region” → contract number", Fee: "без комиссии", FeeEn: "no fee", URL: "https://online.vtb.ru"},
			{Name: "Тверьуниверсалбанк", NameEn: "Tver Universal Bank", Steps: "Мобильный банк или касса: «Оплата услуг» → «Сеть-Регион» → номер договора",
				StepsEn: "Mobile bank or cash desk: “Pay for services” → “Set-Region” → contract number", Fee: "1%"},
			{Name: "Терминалы оплаты", NameEn: "Payment terminals", Steps: "«Оплата услуг» → «Интернет» → «Сеть-Регион» → номер договора → внесите наличные",
				StepsEn: "“Pay for services” → “Internet” → “Set-Region” → contract number → insert cash", Fee: "зависит от терминала", FeeEn: "depends on the terminal"},
			{Name: "Офис «Сеть-Регион»", NameEn: "Set-Region office", Steps: "Назовите номер договора кассиру: наличными или картой, чек сразу",
				StepsEn: "Tell the cashier your contract number: cash or card, the receipt at once", Fee: "без комиссии", FeeEn: "no fee"},
		},
	}
}

// Setup is the payment side of a running Kabinet, built from Config.
type Setup struct {
	Processors []Processor
	OSMP       []OSMPChannel
	Default    string // the processor the portal's Pay form uses
	// Sandbox is set when the sandbox processor runs: the back office
	// warns about it on every page.
	Sandbox bool
	// Registries are the registry layouts by OSMP channel name.
	Registries map[string]RegistryLayout
}

// Build checks the config and makes the processors and channels. zone is
// the provider's time zone, the default for txn_date.
func (c Config) Build(zone *time.Location, clk clock.Clock) (Setup, error) {
	var out Setup
	names := map[string]bool{}
	for _, pc := range c.Processors {
		var p Processor
		var err error
		if pc.Kind == "sandbox" {
			// Anyone holding a payment link can pay it with a test card: in
			// production that is free money, so it runs only when asked for
			// by name, and says so at every start.
			if !c.AllowSandbox {
				return out, fmt.Errorf("payment: the sandbox processor credits payments without taking money; set [payment] allow_sandbox = true to run it (demos and tests only)")
			}
			// Built here rather than by NewProcessor so that it runs on
			// Kabinet's clock.
			if pc.Name == "" {
				pc.Name = "sandbox"
			}
			p, err = NewSandbox(pc, clk, nil)
			out.Sandbox = true
			slog.Warn("payment: the sandbox processor is configured; it credits payments without taking money: use it for demos and tests only")
		} else {
			p, err = NewProcessor(pc)
		}
		if err == nil && pc.Receipts != "" {
			if ri, ok := p.(ReceiptIssuer); !ok || !ri.IssuesReceipts() {
				err = fmt.Errorf("processor %q: receipts %q: only YooKassa issues receipts (receipts = \"yookassa\")", p.Name(), pc.Receipts)
			}
		}
		if err != nil {
			return out, fmt.Errorf("payment: %w", err)
		}
		if names[p.Name()] {
			return out, fmt.Errorf("payment: processor %q configured twice", p.Name())
		}
		names[p.Name()] = true
		out.Processors = append(out.Processors, p)
	}
	out.Default = c.DefaultProcessor
	if out.Default == "" && len(out.Processors) > 0 {
		out.Default = out.Processors[0].Name()
	}
	if out.Default != "" && !names[out.Default] {
		return out, fmt.Errorf("payment: default processor %q is not configured", out.Default)
	}
	if _, err := CashLimits(c.CashLimit); err != nil {
		return out, err
	}
	if len(c.TrustedProxies) > 0 {
		return out, fmt.Errorf("payment: trusted_proxies has moved to [web] trusted_proxies, which the OSMP allow lists use too")
	}
	for _, oc := range c.OSMP {
		ch := OSMPChannel{Name: oc.Name, Login: oc.Login, Password: oc.Password, Location: zone}
		var err error
		if ch.Allow, err = netaddr.ParsePrefixes("allow", oc.Allow); err != nil {
			return out, fmt.Errorf("payment: osmp %q: %w", oc.Name, err)
		}
		if oc.MinSum != "" {
			if ch.MinSum, err = money.Parse(oc.MinSum); err != nil {
				return out, fmt.Errorf("payment: osmp %q: min_sum: %w", oc.Name, err)
			}
		}
		if oc.MaxSum != "" {
			if ch.MaxSum, err = money.Parse(oc.MaxSum); err != nil {
				return out, fmt.Errorf("payment: osmp %q: max_sum: %w", oc.Name, err)
			}
		}
		if oc.Zone != "" {
			if ch.Location, err = time.LoadLocation(oc.Zone); err != nil {
				return out, fmt.Errorf("payment: osmp %q: zone: %w", oc.Name, err)
			}
		}
		layout, err := registryLayout(oc.Registry)
		if err != nil {
			return out, fmt.Errorf("payment: osmp %q: %w", oc.Name, err)
		}
		if out.Registries == nil {
			out.Registries = map[string]RegistryLayout{}
		}
		out.Registries[oc.Name] = layout
		out.OSMP = append(out.OSMP, ch)
	}
	return out, nil
}

// Routes are the payment handlers by http.ServeMux pattern: the OSMP
// endpoint, each processor's callback and the sandbox's page. They are
// server-to-server or the processor's own page: mount them outside the
// portal's session and cross-origin middleware (callbacks are checked by
// signature, OSMP by address and credentials). proxies are [web]
// trusted_proxies, for the OSMP allow lists.
func (s *Service) Routes(channels []OSMPChannel, proxies []netip.Prefix) (map[string]http.Handler, error) {
	routes := map[string]http.Handler{}
	if len(channels) > 0 {
		h, err := NewOSMPHandler(channels, s, s.log)
		if err != nil {
			return nil, err
		}
		h.Proxies, h.Clock = proxies, s.clock
		routes["GET /pay/osmp"] = h
		routes["POST /pay/osmp"] = h
	}
	for name, p := range s.processors {
		if pa, ok := p.(proxyAware); ok {
			pa.setTrustedProxies(proxies)
		}
		routes["POST "+CallbackPath(name)] = CallbackHandler(p, s, s.log)
		if sb, ok := p.(*Sandbox); ok {
			u, err := url.Parse(sb.cfg.PageURL)
			if err != nil {
				return nil, fmt.Errorf("sandbox page URL: %w", err)
			}
			routes[u.Path] = sb
		}
	}
	return routes, nil
}

// Run does the background work of the payment side until ctx ends: the
// sandbox's callbacks, and card payments abandoned on the processor's page
// marked failed.
func (s *Service) Run(ctx context.Context) {
	var wg sync.WaitGroup
	for _, p := range s.processors {
		if sb, ok := p.(*Sandbox); ok {
			wg.Go(func() { sb.Run(ctx) })
		}
	}
	expire := func(ctx context.Context) {
		if n, err := s.ExpirePending(ctx); err != nil {
			s.log.Error("payment: expiring pending card payments", "err", err)
		} else if n > 0 {
			s.log.Info("payment: card payments without a callback marked failed", "count", n)
		}
	}
	if ctx.Err() == nil {
		expire(context.WithoutCancel(ctx))
	}
	clock.Every(ctx, 10*time.Minute, expire)
	wg.Wait()
}
