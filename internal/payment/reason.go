package payment

// Reason is what a subscriber is told about a card payment that did not go
// through. Processors have dozens of decline codes; the subscriber only needs
// to know what to do next: ChronoPay's four cover cards, and the rest say
// what YooKassa's reasons (cards and SBP) ask of the payer.
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
	// Reasons YooKassa distinguishes (cancellation_details.reason).
	ReasonThreeDSecure      Reason = "3ds_failed"         // the bank's confirmation code was not entered
	ReasonLimit             Reason = "limit_exceeded"     // the card's or account's limit
	ReasonOtherMethod       Reason = "use_other_method"   // this card or way of paying cannot pay here
	ReasonTryLater          Reason = "try_later"          // the bank or processor did not answer in time
	ReasonExpired           Reason = "expired"            // not confirmed in time (an unscanned QR code, a closed page)
	ReasonPermissionRevoked Reason = "permission_revoked" // the saved card's or SBP subscription's permission was withdrawn
)

// RevokesMethod says whether a decline means the saved card can never be
// charged again.
func (r Reason) RevokesMethod() bool {
	return r == ReasonCardExpired || r == ReasonCardBlocked || r == ReasonPermissionRevoked
}

// Reasons lists every decline reason, for pages and tests that show them all.
var Reasons = []Reason{ReasonWrongCardData, ReasonNoFunds, ReasonSecurity, ReasonIssuerDecline, ReasonCardExpired, ReasonCardBlocked,
	ReasonThreeDSecure, ReasonLimit, ReasonOtherMethod, ReasonTryLater, ReasonExpired, ReasonPermissionRevoked}

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
		"Срок действия карты истёк. Оплатите картой с новым сроком или через СБП; если это была карта автоплатежа, снова включите автоплатёж.",
		"The card has expired. Pay with a card that has a new expiry date or by SBP; if it was your autopay card, turn autopay on again."},
	{"payment.decline.card_blocked",
		"Банк заблокировал сохранённую карту. Оплатите другой картой и снова включите автоплатёж.",
		"The bank has blocked the saved card. Pay with another card and turn autopay on again."},
	{"payment.decline.3ds_failed",
		"Платёж не подтверждён в банке: код подтверждения (3-D Secure) не был введён или введён неверно. Попробуйте ещё раз или обратитесь в банк.",
		"The bank did not confirm the payment: the confirmation code (3-D Secure) was not entered or was wrong. Try again or contact your bank."},
	{"payment.decline.limit_exceeded",
		"Превышен лимит платежей по карте или счёту. Уменьшите сумму, оплатите другим способом или измените лимит в приложении банка.",
		"The card's or account's payment limit is exceeded. Pay a smaller sum, use another way to pay, or change the limit in your bank's app."},
	{"payment.decline.use_other_method",
		"Этим способом или этой картой здесь оплатить нельзя. Оплатите другой картой или через СБП.",
		"This card or way of paying cannot be used here. Pay with another card or by SBP."},
	{"payment.decline.try_later",
		"Банк или платёжная система не ответили вовремя. Деньги не списаны; попробуйте ещё раз через несколько минут.",
		"The bank or the payment system did not answer in time. No money was taken; try again in a few minutes."},
	{"payment.decline.expired",
		"Платёж не был подтверждён вовремя, деньги не списаны. Начните оплату заново.",
		"The payment was not confirmed in time; no money was taken. Start the payment again."},
	{"payment.decline.permission_revoked",
		"Разрешение на списание с сохранённой карты или счёта отозвано. Оплатите заново и, если нужно, сохраните карту ещё раз.",
		"The permission to charge the saved card or account was withdrawn. Pay again and save the card again if you wish."},
	{"payment.status.pending", "Ожидает подтверждения", "Awaiting confirmation"},
	{"payment.status.succeeded", "Зачислен", "Credited"},
	{"payment.status.failed", "Не прошёл", "Failed"},
	{"payment.status.reversed", "Отменён оператором", "Reversed by an operator"},
}
