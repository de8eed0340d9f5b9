package payment

import (
	"fmt"
	"net/mail"
	"strings"

	"github.com/kabinet-billing/kabinet/internal/money"
	"github.com/kabinet-billing/kabinet/internal/phone"
)

// ReceiptRules are what a processor that issues the 54-FZ receipt itself
// (YooKassa's "Чеки от ЮKassa", `receipts = "yookassa"`) puts in it: the
// same signs Kabinet's own receipts carry, from [fiscal] and [provider].
type ReceiptRules struct {
	SNO           string // osn, usn_income, usn_income_outcome, esn, patent
	VAT           string // "22", "20", "10", "7", "5", "0" or "none"
	PaymentMethod string // 54-FZ tag 1214 in ATOL's words: advance, full_prepayment, …
	PaymentObject int    // 54-FZ tag 1212 code: 4 a service, 10 a payment
	Item          string // %s: the contract number
	// CompanyEmail is where the receipt goes when the subscriber has
	// neither e-mail nor phone (a receipt must name a buyer's contact).
	CompanyEmail string
}

// ReceiptsYooKassa is the `receipts` value of a processor whose receipts
// YooKassa issues.
const ReceiptsYooKassa = "yookassa"

// ReceiptIssuer is a processor that can issue the receipts itself; when it
// is configured to, Kabinet's fiscal queue sends none for its payments.
type ReceiptIssuer interface {
	// IssuesReceipts says whether it was configured to.
	IssuesReceipts() bool
	// SetReceiptRules gives it the receipt's signs.
	SetReceiptRules(r ReceiptRules) error
}

// SetReceiptRules gives the processors configured to issue receipts the
// receipt's signs ([fiscal] and [provider]); without them such a processor
// refuses to start payments.
func (s Setup) SetReceiptRules(r ReceiptRules) error {
	for _, p := range s.Processors {
		if ri, ok := p.(ReceiptIssuer); ok && ri.IssuesReceipts() {
			if err := ri.SetReceiptRules(r); err != nil {
				return fmt.Errorf("payment processor %q: %w", p.Name(), err)
			}
		}
	}
	return nil
}

// yooReceipt is the `receipt` object of a payment or a refund, as
// YooKassa's API reference ("Создание платежа", parameter receipt) and its
// "Reference for receipt parameter values" describe it.
type yooReceipt struct {
	Customer      yooCustomer      `json:"customer"`
	Items         []yooReceiptItem `json:"items"`
	TaxSystemCode int              `json:"tax_system_code,omitempty"`
}

type yooCustomer struct {
	Email string `json:"email,omitempty"`
	// Phone in ITU-T E.164 without the plus ("79001234567").
	Phone string `json:"phone,omitempty"`
}

type yooReceiptItem struct {
	Description string    `json:"description"` // up to 128 characters
	Quantity    int       `json:"quantity"`    // one top-up
	Amount      yooAmount `json:"amount"`      // the price of one
	VATCode     int       `json:"vat_code"`
	// PaymentSubject (tag 1212) and PaymentMode (tag 1214) in YooKassa's
	// words.
	PaymentSubject string `json:"payment_subject"`
	PaymentMode    string `json:"payment_mode"`
}

// yooTaxSystems are tax_system_code values (YooKassa's reference: 1 the
// general system, 2 simplified on income, 3 simplified on income minus
// costs, 4 ENVD, 5 ESN, 6 patent).
var yooTaxSystems = map[string]int{"osn": 1, "usn_income": 2, "usn_income_outcome": 3, "envd": 4, "esn": 5, "patent": 6}

// yooVATCode is vat_code for a rate and a payment method. Codes 1–10 are
// YooKassa's published table (1 without VAT, 2 0%, 3 10%, 4 20%, 5 10/110,
// 6 20/120, 7 5%, 8 7%, 9 5/105, 10 7/107); an advance or prepayment is
// taxed at the calculated rate. The codes of 22% and 22/122 (in force since
// 1 January 2026) could not be confirmed from YooKassa's documentation
// here: 11 and 12 are assumed, following the table's order; set vat_code
// on the processor to what YooKassa's reference says.
func yooVATCode(rate, method string) (int, error) {
	advance := method == "advance" || method == "full_prepayment" || method == "prepayment"
	pick := func(plain, calc int) int {
		if advance {
			return calc
		}
		return plain
	}
	switch rate {
	case "none":
		return 1, nil
	case "0":
		return 2, nil
	case "10":
		return pick(3, 5), nil
	case "20":
		return pick(4, 6), nil
	case "5":
		return pick(7, 9), nil
	case "7":
		return pick(8, 10), nil
	case "22":
		return pick(11, 12), nil // assumed, see above
	}
	return 0, fmt.Errorf("VAT %q has no YooKassa vat_code", rate)
}

// yooPaymentSubjects are payment_subject names of 54-FZ tag 1212 codes.
var yooPaymentSubjects = map[int]string{1: "commodity", 2: "excise", 3: "job", 4: "service", 10: "payment", 13: "another"}

// yooPaymentMode is payment_mode for ATOL's name of tag 1214: the same
// words, except ATOL's "prepayment", which YooKassa calls
// "partial_prepayment".
func yooPaymentMode(method string) string {
	if method == "prepayment" {
		return "partial_prepayment"
	}
	return method
}

// yooRules are the receipt's fixed parts, checked once.
type yooRules struct {
	ReceiptRules
	tax     int
	vat     int
	subject string
	mode    string
}

func newYooRules(r ReceiptRules, vatOverride int) (*yooRules, error) {
	out := &yooRules{ReceiptRules: r, mode: yooPaymentMode(r.PaymentMethod)}
	var ok bool
	if out.tax, ok = yooTaxSystems[r.SNO]; !ok {
		return nil, fmt.Errorf("receipts: tax system %q has no YooKassa tax_system_code", r.SNO)
	}
	if vatOverride != 0 {
		out.vat = vatOverride
	} else {
		v, err := yooVATCode(r.VAT, r.PaymentMethod)
		if err != nil {
			return nil, fmt.Errorf("receipts: %w", err)
		}
		out.vat = v
	}
	if out.subject, ok = yooPaymentSubjects[r.PaymentObject]; !ok {
		out.subject = "another"
	}
	if strings.Count(r.Item, "%s") != 1 {
		return nil, fmt.Errorf("receipts: item %q: want one %%s for the contract number", r.Item)
	}
	return out, nil
}

// receipt is the receipt of a payment or refund of amount by the
// subscriber with this contract and contacts.
func (r *yooRules) receipt(contract, email, tel string, amount money.Amount, currency string) yooReceipt {
	c := yooCustomer{}
	if e := strings.TrimSpace(email); e != "" {
		if _, err := mail.ParseAddress(e); err == nil {
			c.Email = e
		}
	}
	if c.Email == "" {
		// YooKassa takes the number without its "+" (ITU-T E.164 digits).
		if p, err := phone.Normalize(tel); err == nil && phone.Mobile(p) {
			c.Phone = p[1:]
		}
	}
	if c.Email == "" && c.Phone == "" {
		c.Email = r.CompanyEmail
	}
	return yooReceipt{
		Customer: c,
		Items: []yooReceiptItem{{Description: truncate(fmt.Sprintf(r.Item, contract), 128), Quantity: 1,
			Amount: yooAmount{Value: amount.Decimal(), Currency: currency}, VATCode: r.vat, PaymentSubject: r.subject, PaymentMode: r.mode}},
		TaxSystemCode: r.tax,
	}
}
