package payment

// Reason is what a subscriber is told about a card payment that did not go
// through. Processors have dozens of decline codes; the subscriber only needs
// to know what to do next, which is one of these four.
type Reason string

const (
	ReasonNone          Reason = ""
	ReasonWrongCardData Reason = "wrong_card_data"
	ReasonNoFunds       Reason = "insufficient_funds"
	ReasonSecurity      Reason = "processor_security"
	ReasonIssuerDecline Reason = "issuer_declined"
	// A saved card charged without the subscriber can also be refused for
	// good: it expired or its bank blocked it. Autopay stops on these.
	ReasonCardExpired Reason = "card_expired"
	ReasonCardBlocked Reason = "card_blocked"
)

// RevokesMethod says whether a decline means the saved card can never be
// charged again.
func (r Reason) RevokesMethod() bool { return r == ReasonCardExpired || r == ReasonCardBlocked }

// Reasons lists every decline reason, for pages and tests that show them all.
var Reasons = []Reason{ReasonWrongCardData, ReasonNoFunds, ReasonSecurity, ReasonIssuerDecline, ReasonCardExpired, ReasonCardBlocked}

// ParseReason accepts a stored reason; anything unknown becomes the issuing
// bank's decline, the one reason that always tells the subscriber whom to call.
func ParseReason(s string) Reason {
	for _, r := range Reasons {
		if string(r) == s {
			return r
		}
	}
	if s == "" {
		return ReasonNone
	}
	return ReasonIssuerDecline
}

// MessageID is the translation key of the reason's text. The security
// reason's text takes the template field {{.Phone}}: the processor's phone.
func (r Reason) MessageID() string {
	if r == ReasonNone {
		return ""
	}
	return "payment.decline." + string(r)
}

// Message is one translatable text with its Russian and English forms, in
// the shape the web layer loads into its i18n bundle.
type Message struct {
	ID string
	RU string
	EN string
}

// Messages are all user-facing texts of this package. Fields in {{.Name}} are
// filled by the caller (go-i18n template data).
var Messages = []Message{
	{"payment.decline.wrong_card_data",
		"Данные карты введены неверно. Проверьте номер, срок действия и код CVC и попробуйте ещё раз.",
		"The card details were entered incorrectly. Check the number, expiry date and CVC and try again."},
	{"payment.decline.insufficient_funds",
		"На карте недостаточно средств.",
		"There is not enough money on the card."},
	{"payment.decline.processor_security",
		"Платёж отклонён службой безопасности платёжной системы. Причину можно узнать по телефону {{.Phone}}; вас могут попросить назвать первые 6 и последние 4 цифры номера карты.",
		"The payment was rejected by the payment processor's security service. You can learn why by calling {{.Phone}}; you may be asked for the first 6 and last 4 digits of the card number."},
	{"payment.decline.issuer_declined",
		"Платёж отклонён банком, выпустившим карту. Позвоните в банк по номеру, указанному на обороте карты.",
		"The payment was declined by the bank that issued the card. Call the bank on the number printed on the back of the card."},
	{"payment.decline.card_expired",
		"Срок действия сохранённой карты истёк. Оплатите картой с новым сроком и снова включите автоплатёж.",
		"The saved card has expired. Pay with a card that has a new expiry date and turn autopay on again."},
	{"payment.decline.card_blocked",
		"Банк заблокировал сохранённую карту. Оплатите другой картой и снова включите автоплатёж.",
		"The bank has blocked the saved card. Pay with another card and turn autopay on again."},
	{"payment.status.pending", "Ожидает подтверждения", "Awaiting confirmation"},
	{"payment.status.succeeded", "Зачислен", "Credited"},
	{"payment.status.failed", "Не прошёл", "Failed"},
	{"payment.status.reversed", "Отменён оператором", "Reversed by an operator"},
}
