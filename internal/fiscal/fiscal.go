// Package fiscal is 54-FZ receipts: for every payment from a person on a
// channel that needs the provider's own receipt, one "приход" (sell)
// receipt, and for its reversal or refund one "возврат прихода"
// (sell_refund). The receipt's row is written in the transaction that
// credits the payment (through billing.PaymentHook), so crediting never
// waits for the fiscal data operator; a worker sends the rows to the
// operator (ATOL Online API v5), retries while it is away, polls for the
// result and records the fiscal sign (ФН, ФД, ФП) and the check link.
package fiscal

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/mail"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/kabinet-billing/kabinet/internal/billing"
	"github.com/kabinet-billing/kabinet/internal/clock"
	"github.com/kabinet-billing/kabinet/internal/config"
	"github.com/kabinet-billing/kabinet/internal/derrors"
	"github.com/kabinet-billing/kabinet/internal/money"
	"github.com/kabinet-billing/kabinet/internal/phone"
	"github.com/kabinet-billing/kabinet/internal/store"
)

// Kinds of receipt (ATOL's operation names).
const (
	KindSell       = "sell"        // приход
	KindSellRefund = "sell_refund" // возврат прихода
)

// Statuses of a receipt in the queue.
const (
	StatusQueued = "queued" // not yet accepted by the operator
	StatusWait   = "wait"   // accepted, the result not yet known
	StatusDone   = "done"   // registered: the fiscal sign is known
	StatusFailed = "failed" // refused; an operator must look and resend
)

// Settings are what every receipt carries besides the payment.
type Settings struct {
	Channels []string
	// Skip are channels whose processor issues the receipts itself
	// ([[payment.processors]] receipts = "yookassa"): none is queued here.
	Skip           []string
	SNO            string
	VAT            string // "22", "10", "5", "7", "0" or "none"
	PaymentMethod  string
	PaymentObject  int
	Item           string // %s: the contract number
	INN            string
	CompanyEmail   string
	PaymentAddress string
	CheckURL       string
}

var (
	snos           = []string{"osn", "usn_income", "usn_income_outcome", "esn", "patent"}
	vats           = []string{"22", "20", "10", "7", "5", "0", "none"}
	paymentMethods = []string{"full_prepayment", "prepayment", "advance", "full_payment", "partial_payment", "credit", "credit_payment"}
)

// SettingsFrom reads [fiscal] and [provider], checking the values.
func SettingsFrom(cfg config.Config) (Settings, error) {
	f := cfg.Fiscal
	s := Settings{Channels: f.Channels, SNO: f.SNO, VAT: strings.TrimSuffix(strings.TrimSpace(f.VAT), "%"), PaymentMethod: f.PaymentMethod,
		PaymentObject: f.PaymentObject, Item: f.Item, INN: cfg.Provider.INN, CompanyEmail: f.CompanyEmail,
		PaymentAddress: f.PaymentAddress, CheckURL: f.CheckURL}
	if s.CompanyEmail == "" {
		s.CompanyEmail = cfg.Provider.Email
	}
	for _, pc := range cfg.Payment.Processors {
		if pc.Receipts != "" {
			name := pc.Name
			if name == "" {
				name = pc.Kind
			}
			s.Skip = append(s.Skip, "card:"+name)
		}
	}
	if s.PaymentAddress == "" {
		s.PaymentAddress = cfg.Provider.Site
	}
	switch {
	case !slices.Contains(snos, s.SNO):
		return s, fmt.Errorf("fiscal: sno %q: want one of %s", s.SNO, strings.Join(snos, ", "))
	case !slices.Contains(vats, s.VAT):
		return s, fmt.Errorf("fiscal: vat %q: want one of %s", f.VAT, strings.Join(vats, ", "))
	case !slices.Contains(paymentMethods, s.PaymentMethod):
		return s, fmt.Errorf("fiscal: payment_method %q: want one of %s", s.PaymentMethod, strings.Join(paymentMethods, ", "))
	case s.PaymentObject < 1 || s.PaymentObject > 33:
		return s, fmt.Errorf("fiscal: payment_object %d: want a 54-FZ code from 1 to 33 (4 a service, 10 a payment)", s.PaymentObject)
	case strings.Count(s.Item, "%s") != 1 || strings.Count(s.Item, "%") != 1:
		return s, fmt.Errorf("fiscal: item %q: want one %%s for the contract number", s.Item)
	case len(s.INN) != 10 && len(s.INN) != 12:
		return s, fmt.Errorf("fiscal: [provider] inn %q: want 10 or 12 digits", s.INN)
	case s.PaymentAddress == "":
		return s, errors.New("fiscal: payment_address (or [provider] site) is required: the receipt names where it was paid")
	}
	if _, err := mail.ParseAddress(s.CompanyEmail); err != nil {
		return s, fmt.Errorf("fiscal: company_email (or [provider] email) %q: %w", s.CompanyEmail, err)
	}
	return s, nil
}

// needs reports whether a channel's payments get the provider's receipt:
// "card" covers "card" and "card:…".
func (s Settings) needs(channel string) bool {
	if slices.Contains(s.Skip, channel) {
		return false
	}
	for _, c := range s.Channels {
		if channel == c || strings.HasPrefix(channel, c+":") {
			return true
		}
	}
	return false
}

// Receipt is one receipt in the queue.
type Receipt struct {
	ID                      int64
	Kind                    string
	LedgerTxnID             int64
	RefundOf                int64
	AccountID               int64
	Channel                 string
	PaymentRef              string
	Amount                  money.Amount
	Item                    string
	ClientEmail             string
	ClientPhone             string
	CompanyEmail            string
	INN                     string
	PaymentAddress          string
	SNO                     string
	VAT                     string
	PaymentMethod           string
	PaymentObject           int
	PaymentType             int
	ExternalID              string
	Status                  string
	UUID                    string
	Attempts                int
	Resends                 int
	NextAttemptAt           time.Time
	LastError               string
	FNNumber                string // ФН
	FiscalDocumentNumber    int64  // ФД
	FiscalDocumentAttribute string // ФП
	FiscalReceiptNumber     int64
	ShiftNumber             int64
	ReceiptDatetime         string
	ECRRegistrationNumber   string
	FNSSite                 string
	CheckURL                string
	CreatedAt               time.Time
	DoneAt                  time.Time
}

// Queue is the receipts' queue and its worker.
type Queue struct {
	db    *store.DB
	clock clock.Clock
	set   Settings
	op    Operator
	log   *slog.Logger
	wake  chan struct{}
	// sandbox: op is the built-in look-alike, started by Run.
	sandbox bool
}

// New makes the queue over an open, migrated database. op may be nil: the
// queue then records receipts and sends none (they wait for an operator).
func New(db *store.DB, clk clock.Clock, set Settings, op Operator, log *slog.Logger) *Queue {
	if clk == nil {
		clk = clock.System
	}
	if log == nil {
		log = slog.Default()
	}
	return &Queue{db: db, clock: clk, set: set, op: op, log: log, wake: make(chan struct{}, 1)}
}

// Wake asks the worker to send now rather than at its next tick.
func (q *Queue) Wake() {
	select {
	case q.wake <- struct{}{}:
	default:
	}
}

// payment types of the receipt's payments (tag 1031/1081): cash at the
// desk, electronic otherwise.
const (
	paymentCash       = 0
	paymentElectronic = 1
)

// PaymentsCredited enqueues a sell receipt for each payment on a channel
// that needs one, in the crediting transaction (billing.PaymentHook).
func (q *Queue) PaymentsCredited(ctx context.Context, tx *store.Tx, pays []billing.CreditedPayment) error {
	for _, p := range pays {
		if !q.set.needs(p.Channel) {
			continue
		}
		c, err := billing.ContactOf(ctx, tx, p.AccountID)
		if err != nil {
			return fmt.Errorf("receipt for %s/%s: %w", p.Channel, p.ExternalID, err)
		}
		r := Receipt{Kind: KindSell, LedgerTxnID: p.TxnID, AccountID: p.AccountID, Channel: p.Channel,
			PaymentRef: p.ExternalID, Amount: p.Amount, Item: fmt.Sprintf(q.set.Item, c.ContractNo),
			CompanyEmail: q.set.CompanyEmail, INN: q.set.INN, PaymentAddress: q.set.PaymentAddress, SNO: q.set.SNO,
			VAT: q.set.VAT, PaymentMethod: q.set.PaymentMethod, PaymentObject: q.set.PaymentObject, PaymentType: paymentElectronic}
		if p.Channel == "cash" || strings.HasPrefix(p.Channel, "cash:") {
			r.PaymentType = paymentCash
		}
		r.ClientEmail, r.ClientPhone = clientContact(c, q.set.CompanyEmail)
		if err := q.insert(ctx, tx, r); err != nil {
			return err
		}
	}
	return nil
}

// clientContact is where the receipt is sent: the subscriber's e-mail, or
// else the phone; with neither, the provider's own address (the receipt
// must name a buyer's contact to be sent; the provider then hands it over).
func clientContact(c billing.Contact, company string) (email, tel string) {
	if e := strings.TrimSpace(c.Email); e != "" {
		if _, err := mail.ParseAddress(e); err == nil {
			return e, ""
		}
	}
	if p, err := phone.Normalize(c.Phone); err == nil && phone.Mobile(p) {
		return "", p
	}
	return company, ""
}

// PaymentReversed enqueues the refund receipt of a payment taken back, when
// the payment had a receipt (billing.PaymentHook).
func (q *Queue) PaymentReversed(ctx context.Context, tx *store.Tx, rp billing.ReversedPayment) error {
	sell, err := scanReceipt(tx.QueryRow(ctx, `SELECT `+receiptCols+` FROM fiscal_receipts WHERE ledger_txn_id = ? AND kind = ?`, rp.TxnID, KindSell))
	if errors.Is(err, errNoRows) {
		return nil // a channel without the provider's receipt, or paid before receipts
	}
	if err != nil {
		return fmt.Errorf("refund receipt for transaction %d: %w", rp.TxnID, err)
	}
	r := sell
	r.Kind, r.LedgerTxnID, r.RefundOf, r.Amount = KindSellRefund, rp.ReversalTxnID, sell.ID, rp.Amount
	return q.insert(ctx, tx, r)
}

// insert writes a receipt once per ledger transaction: a repeat is a no-op.
func (q *Queue) insert(ctx context.Context, tx *store.Tx, r Receipt) error {
	now := q.clock.Now().UTC()
	var refund any
	if r.RefundOf != 0 {
		refund = r.RefundOf
	}
	r.ExternalID = externalID(r.Kind, r.LedgerTxnID, 0)
	res, err := tx.Exec(ctx, `INSERT INTO fiscal_receipts (kind, ledger_txn_id, refund_of, account_id, channel, payment_ref, amount, item,
		client_email, client_phone, company_email, inn, payment_address, sno, vat, payment_method, payment_object, payment_type,
		external_id, next_attempt_at, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (ledger_txn_id) DO NOTHING`,
		r.Kind, r.LedgerTxnID, refund, r.AccountID, r.Channel, r.PaymentRef, int64(r.Amount), r.Item,
		r.ClientEmail, r.ClientPhone, r.CompanyEmail, r.INN, r.PaymentAddress, r.SNO, r.VAT, r.PaymentMethod, r.PaymentObject, r.PaymentType,
		r.ExternalID, now, now, now)
	if err != nil {
		return fmt.Errorf("%s receipt for transaction %d: %w", r.Kind, r.LedgerTxnID, err)
	}
	if n, _ := res.RowsAffected(); n > 0 {
		tx.OnCommit(q.Wake)
	}
	return nil
}

// externalID is Kabinet's key of a receipt at the operator: the same key
// never makes a second receipt there. A resend after the operator failed
// the document (no receipt exists) takes the next key.
func externalID(kind string, txn int64, resend int) string {
	id := "kabinet-" + kind + "-" + strconv.FormatInt(txn, 10)
	if resend > 0 {
		id += "-r" + strconv.Itoa(resend)
	}
	return id
}

// ErrDone means the receipt is registered: there is nothing to resend.
var ErrDone = fmt.Errorf("the receipt is already registered: %w", derrors.Conflict)
