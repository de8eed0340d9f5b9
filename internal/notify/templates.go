package notify

import (
	"bytes"
	"embed"
	"fmt"
	"strings"
	"text/template"

	"github.com/kabinet-billing/kabinet/internal/config"
)

// Kinds of letters.
const (
	KindCredentials     = "credentials"      // a new contract's login and password
	KindPasswordReset   = "password_reset"   // a password an operator reset
	KindLowBalance      = "low_balance"      // before the 1st, when the balance will not cover the fees
	KindLimited         = "limited"          // speed limited for debt
	KindUnlimited       = "unlimited"        // limit lifted
	KindPaymentReceived = "payment_received" // money credited
	KindAutopayCharged  = "autopay_charged"  // the saved card was charged before the 1st
	KindAutopayFailed   = "autopay_failed"   // the charge failed after its retries
	KindAutopayDisabled = "autopay_disabled" // the card was refused for good; autopay is off
	KindPromiseEnding   = "promise_ending"   // the promised payment ends tomorrow
	KindRequestAnswered = "request_answered" // an operator answered a request
	KindBroadcast       = "broadcast"        // an operators' message to many
	KindDocuments       = "documents"        // a company's invoices and acts, attached as PDFs
)

// Letters of the voluntary suspension.
const (
	KindSuspended        = "suspended"         // a voluntary suspension started
	KindSuspensionEnding = "suspension_ending" // the last day of a suspension: the line resumes tomorrow
	KindResumed          = "resumed"           // a suspension ended: the line works again
)

// Kinds lists every kind of letter; each has a template per language.
var Kinds = []string{KindCredentials, KindPasswordReset, KindLowBalance, KindLimited, KindUnlimited, KindPaymentReceived,
	KindAutopayCharged, KindAutopayFailed, KindAutopayDisabled, KindPromiseEnding, KindRequestAnswered, KindBroadcast,
	KindDocuments, KindSuspended, KindSuspensionEnding, KindResumed}

// ShortKinds are the kinds that also go as a short text (Telegram, SMS,
// push): templates/short/<kind>.<lang>.txt.
var ShortKinds = []string{KindPaymentReceived, KindLowBalance, KindLimited, KindUnlimited, KindPromiseEnding, KindSuspended,
	KindSuspensionEnding, KindResumed, KindRequestAnswered, KindBroadcast}

// Langs are the languages letters are written in; the first is the fallback.
var Langs = []string{"ru", "en"}

//go:embed templates/*.txt templates/short/*.txt
var templateFS embed.FS

// Letter is what a template may use. Amounts are formatted for the
// letter's language before rendering.
type Letter struct {
	Provider    config.Provider
	PortalURL   string
	Name        string
	Login       string
	ContractNo  string
	Password    string // credentials and password reset only
	Amount      string
	Balance     string
	Debt        string
	Fees        string
	Recommended string
	Due         string // the date of the next charge
	LimitKbps   int64
	Method      string // autopay: the saved card, "Visa •••• 4242"
	Reason      string // autopay: why the charge failed, in the letter's language
	Until       string // a promise's or a suspension's end, 02.01.2006
	RequestID   string // request_answered: the request's number
	Text        string // a broadcast's text
	// Subject is, for documents, what the letter carries ("Счёт на оплату
	// № 2026-000123"); for request_answered, the request's subject.
	Subject   string
	Documents string // documents: a line per document attached
}

var templates = func() map[string]*template.Template {
	m := map[string]*template.Template{}
	for _, lang := range Langs {
		common := template.Must(template.New("common").ParseFS(templateFS, "templates/common."+lang+".txt"))
		for _, kind := range Kinds {
			t := template.Must(template.Must(common.Clone()).New(kind).ParseFS(templateFS, "templates/"+kind+"."+lang+".txt"))
			m[kind+"."+lang] = t.Lookup(kind + "." + lang + ".txt")
		}
	}
	return m
}()

var shortTemplates = func() map[string]*template.Template {
	m := map[string]*template.Template{}
	for _, lang := range Langs {
		for _, kind := range ShortKinds {
			name := kind + "." + lang + ".txt"
			m[kind+"."+lang] = template.Must(template.New(name).ParseFS(templateFS, "templates/short/"+name))
		}
	}
	return m
}()

// RenderShort writes the short text of kind in lang (Russian when lang is
// unknown) for channels without a subject: Telegram, SMS, push.
func RenderShort(kind, lang string, l Letter) (string, error) {
	t, ok := shortTemplates[kind+"."+lang]
	if !ok {
		t, ok = shortTemplates[kind+"."+Langs[0]]
	}
	if !ok {
		return "", fmt.Errorf("message %s: no short template", kind)
	}
	var b bytes.Buffer
	if err := t.Execute(&b, l); err != nil {
		return "", fmt.Errorf("message %s.%s: %w", kind, lang, err)
	}
	return strings.TrimSpace(b.String()), nil
}

// Render writes the letter of kind in lang (Russian when lang is unknown):
// the subject from the template's first line, then the body.
func Render(kind, lang string, l Letter) (subject, body string, err error) {
	t, ok := templates[kind+"."+lang]
	if !ok {
		t, ok = templates[kind+"."+Langs[0]]
	}
	if !ok {
		return "", "", fmt.Errorf("letter %s: no template", kind)
	}
	var b bytes.Buffer
	if err := t.Execute(&b, l); err != nil {
		return "", "", fmt.Errorf("letter %s.%s: %w", kind, lang, err)
	}
	first, rest, _ := strings.Cut(b.String(), "\n")
	subject, ok = strings.CutPrefix(first, "Subject: ")
	if !ok {
		return "", "", fmt.Errorf("letter %s.%s: the first line must be the Subject", kind, lang)
	}
	return strings.TrimSpace(subject), strings.TrimLeft(rest, "\n"), nil
}
