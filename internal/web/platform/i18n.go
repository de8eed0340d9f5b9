package platform

import (
	"fmt"
	"io/fs"
	"path"
	"sync"

	"github.com/BurntSushi/toml"
	"github.com/nicksnyder/go-i18n/v2/i18n"
	"golang.org/x/text/language"
)

// Langs are the interface languages, the default first.
var Langs = []string{"ru", "en"}

// I18n translates message IDs for each language. Messages live in
// web/translations/<lang>.toml; capability packages may add their own
// (payment.Messages) at start.
type I18n struct {
	bundle *i18n.Bundle
	loc    map[string]*i18n.Localizer
	// missing records IDs asked for but not translated, so that a test can
	// prove every string shown has both languages.
	missing sync.Map
	// plain memoizes messages without fields: a page asks for dozens, and
	// go-i18n executes a template for each.
	plain sync.Map
}

// NewI18n loads every <lang>.toml under dir of fsys.
func NewI18n(fsys fs.FS, dir string) (*I18n, error) {
	b := i18n.NewBundle(language.Russian)
	b.RegisterUnmarshalFunc("toml", toml.Unmarshal)
	for _, l := range Langs {
		if _, err := b.LoadMessageFileFS(fsys, path.Join(dir, l+".toml")); err != nil {
			return nil, fmt.Errorf("translations %s: %w", l, err)
		}
	}
	t := &I18n{bundle: b, loc: map[string]*i18n.Localizer{}}
	for _, l := range Langs {
		t.loc[l] = i18n.NewLocalizer(b, l)
	}
	return t, nil
}

// Add adds one message in Russian and English (from a capability package).
func (t *I18n) Add(id, ru, en string) {
	t.plain.Clear()
	t.bundle.AddMessages(language.Russian, &i18n.Message{ID: id, Other: ru})
	t.bundle.AddMessages(language.English, &i18n.Message{ID: id, Other: en})
}

// Lang normalises a language name to one of Langs.
func Lang(s string) string {
	for _, l := range Langs {
		if l == s {
			return l
		}
	}
	return Langs[0]
}

// T translates id into lang. data fills {{.Field}} in the message; a
// "Count" field picks the plural form. An unknown id comes back as itself
// and is recorded in Missing.
func (t *I18n) T(lang, id string, data map[string]any) string {
	if data == nil {
		if s, ok := t.plain.Load(lang + "\x00" + id); ok {
			return s.(string)
		}
	}
	s, ok := t.localize(lang, id, data)
	if ok && data == nil {
		t.plain.Store(lang+"\x00"+id, s)
	}
	return s
}

func (t *I18n) localize(lang, id string, data map[string]any) (string, bool) {
	cfg := &i18n.LocalizeConfig{MessageID: id, TemplateData: data}
	if c, ok := data["Count"]; ok {
		cfg.PluralCount = c
	}
	lang = Lang(lang)
	s, tag, err := t.loc[lang].LocalizeWithTag(cfg)
	if err != nil || s == "" {
		t.missing.Store(lang+":"+id, true)
		return id, false
	}
	if base, _ := tag.Base(); base.String() != lang {
		// Fell back to another language: show it, but note the gap.
		t.missing.Store(lang+":"+id, true)
		return s, false
	}
	return s, true
}

// translated is id's message without fields in lang, when lang has one;
// unlike T it records nothing.
func (t *I18n) translated(lang, id string) (string, bool) {
	lang = Lang(lang)
	s, tag, err := t.loc[lang].LocalizeWithTag(&i18n.LocalizeConfig{MessageID: id})
	if err != nil || s == "" {
		return "", false
	}
	if base, _ := tag.Base(); base.String() != lang {
		return "", false
	}
	return s, true
}

// Has tells whether id is translated in every language.
func (t *I18n) Has(id string) bool {
	for _, l := range Langs {
		if _, err := t.loc[l].Localize(&i18n.LocalizeConfig{MessageID: id}); err != nil {
			return false
		}
	}
	return true
}

// Missing lists "lang:id" pairs asked for without a translation.
func (t *I18n) Missing() []string {
	var out []string
	t.missing.Range(func(k, _ any) bool { out = append(out, k.(string)); return true })
	return out
}
