package main

import (
	"reflect"
	"strings"
	"testing"

	"github.com/kabinet-billing/kabinet/internal/config"
	"github.com/kabinet-billing/kabinet/internal/fiscal"
	"github.com/kabinet-billing/kabinet/internal/notify"
	"github.com/kabinet-billing/kabinet/internal/payment"
)

// The example config documents every section: it loads strictly (every
// key in it is one the code reads), every key and section of the typed
// Config appears in it, and its sections are valid.
func TestDeployConfigExample(t *testing.T) {
	const file = "../../deploy/kabinet.toml"
	cfg, err := config.Load(file)
	if err != nil {
		t.Fatalf("config.Load: %v", err)
	}
	ct := reflect.TypeFor[config.Config]()
	for i := range ct.NumField() {
		name, _, _ := strings.Cut(ct.Field(i).Tag.Get("toml"), ",")
		if name == "" || name == "-" {
			continue
		}
		if !cfg.Given(name) {
			t.Errorf("%s does not document %q", file, name)
		}
	}
	if _, err := payment.Config(cfg.Payment).Build(cfg.Zone(), nil); err != nil {
		t.Errorf("[payment]: %v", err)
	}
	if _, err := fiscal.SettingsFrom(cfg); err != nil {
		t.Errorf("[fiscal]: %v", err)
	}
	mc := notify.Config(cfg.Mail)
	if err := mc.Check(); err != nil {
		t.Errorf("[mail]: %v", err)
	}
	if len(cfg.Provider.Offices) == 0 || cfg.Billing.Zone == "" {
		t.Errorf("provider or billing section not read: %+v", cfg)
	}
}
