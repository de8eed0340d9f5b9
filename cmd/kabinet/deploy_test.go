package main

import (
	"testing"

	"github.com/BurntSushi/toml"

	"github.com/kabinet-billing/kabinet/internal/config"
	"github.com/kabinet-billing/kabinet/internal/notify"
	"github.com/kabinet-billing/kabinet/internal/payment"
	"github.com/kabinet-billing/kabinet/internal/web/public"
)

// The example config documents every section: it must load, and every key
// in it must be one the code reads (a misspelt key is silently ignored by
// the real loader, which is how examples rot).
func TestDeployConfigExample(t *testing.T) {
	const file = "../../deploy/kabinet.toml"
	var all struct {
		config.Config
		Radius  radiusConfig   `toml:"radius"`
		Payment payment.Config `toml:"payment"`
		Mail    notify.Config  `toml:"mail"`
		Site    public.Config  `toml:"site"`
		TLS     tlsConfig      `toml:"tls"`
	}
	md, err := toml.DecodeFile(file, &all)
	if err != nil {
		t.Fatal(err)
	}
	if u := md.Undecoded(); len(u) > 0 {
		t.Errorf("%s has keys the code does not read: %v", file, u)
	}
	cfg, err := config.Load(file)
	if err != nil {
		t.Fatalf("config.Load: %v", err)
	}
	var pc payment.Config
	if err := cfg.Section("payment", &pc); err != nil {
		t.Fatal(err)
	}
	if _, err := pc.Build(cfg.Zone(), nil); err != nil {
		t.Errorf("[payment]: %v", err)
	}
	var mc notify.Config
	if err := cfg.Section("mail", &mc); err != nil {
		t.Fatal(err)
	}
	if err := mc.Check(); err != nil {
		t.Errorf("[mail]: %v", err)
	}
	if len(cfg.Provider.Offices) == 0 || cfg.Billing.Zone == "" {
		t.Errorf("provider or billing section not read: %+v", cfg)
	}
}
