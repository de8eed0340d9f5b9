package documents

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/kabinet-billing/kabinet/internal/billing"
	"github.com/kabinet-billing/kabinet/internal/company"
	"github.com/kabinet-billing/kabinet/internal/derrors"
	"github.com/kabinet-billing/kabinet/internal/money"
	"github.com/kabinet-billing/kabinet/internal/store"
)

// Companies reads the organisations documents go to from internal/company.
type Companies struct{ C *company.Service }

// PartyOf is an organisation as documents name it, with its points (and
// those that left it: company.Departures).
func PartyOf(o company.Organisation, points, former []company.Point) Party {
	p := Party{ID: o.ID, Name: o.FullName, INN: o.INN, KPP: o.KPP, OGRN: o.OGRN, Address: o.LegalAddress, PostalAddress: o.PostalAddress,
		Phone: o.Phone, Bank: o.BankName, BIK: o.BIK, Account: o.SettlementAccount, CorrAccount: o.CorrAccount, Director: o.Director,
		Accountant: o.Accountant, Email: o.Email, ContractNo: o.ContractNo, ContractDate: o.ContractDate,
		WithoutVAT: o.VATMode == company.VATNone, LedgerID: o.LedgerID, Closing: Kind(o.Closing)}
	if p.Name == "" {
		p.Name = o.ShortName
	}
	for _, pt := range points {
		p.Points = append(p.Points, pointOf(pt))
	}
	for _, pt := range former {
		p.Former = append(p.Former, pointOf(pt))
	}
	return p
}

// pointOf is a point as documents name it: the operator's name for the
// place before its address; when it left the contract (former points).
func pointOf(pt company.Point) Point {
	addr := pt.Address
	if pt.Label != "" {
		addr = pt.Label + ", " + addr
		if pt.Address == "" {
			addr = pt.Label
		}
	}
	return Point{AccountID: pt.AccountID, Login: pt.Login, Address: addr, Left: pt.LeftAt}
}

// Organisations lists every organisation with its points: the points in
// one query, the organisations a page of 500 at a time.
func (c Companies) Organisations(ctx context.Context) ([]Party, error) {
	points, err := c.C.AllPoints(ctx)
	if err != nil {
		return nil, err
	}
	former, err := c.C.Departures(ctx, time.Time{})
	if err != nil {
		return nil, err
	}
	var out []Party
	for off := 0; ; off += 500 {
		page, err := c.C.List(ctx, company.Query{Offset: off, Limit: 500})
		if err != nil {
			return nil, err
		}
		for _, o := range page.Items {
			out = append(out, PartyOf(o, points[o.ID], former[o.ID]))
		}
		if len(page.Items) < 500 || off+len(page.Items) >= page.Total {
			return out, nil
		}
	}
}

// Organisation is one organisation with its points.
func (c Companies) Organisation(ctx context.Context, id int64) (Party, error) {
	o, err := c.C.Get(ctx, id)
	if err != nil {
		return Party{}, err
	}
	pts, err := c.C.Points(ctx, id)
	if err != nil {
		return Party{}, err
	}
	former, err := c.C.Departures(ctx, time.Time{})
	if err != nil {
		return Party{}, err
	}
	return PartyOf(o, pts, former[id]), nil
}

// BankInvoices lets the 1C bank import find the invoice a payment's
// purpose names and count the payment towards it (company.Invoices).
func (s *Service) BankInvoices() company.Invoices { return bankInvoices{s} }

type bankInvoices struct{ s *Service }

// InvoiceByNumber takes a candidate the import found after "счёт" (e.g.
// "2026-000123", "2026/123", "№2026-123") and looks the invoice up.
func (b bankInvoices) InvoiceByNumber(ctx context.Context, tx *store.Tx, number string) (company.Invoice, bool, error) {
	nums := InvoiceNumbers(number)
	if len(nums) == 0 {
		return company.Invoice{}, false, nil
	}
	d, err := b.s.InvoiceByNumber(ctx, tx, nums[0])
	if errors.Is(err, derrors.NotFound) || errors.Is(err, derrors.Invalid) {
		return company.Invoice{}, false, nil
	}
	if err != nil {
		return company.Invoice{}, false, err
	}
	return company.Invoice{ID: d.ID, Number: d.Number, OrganisationID: d.OrgID, Amount: d.Total}, true, nil
}

// Numbers is InvoiceNumbers: the numbers in this package's series that a
// purpose names, with or without "счёт" before them.
func (b bankInvoices) Numbers(purpose string) []string { return InvoiceNumbers(purpose) }

// InvoicePaid counts bank payment paymentID (credited in tx under the bank
// channel's key) towards the invoice.
func (b bankInvoices) InvoicePaid(ctx context.Context, tx *store.Tx, inv company.Invoice, paymentID int64, amount money.Amount) error {
	var txn int64
	err := tx.QueryRow(ctx, `SELECT id FROM ledger_txns WHERE key = ?`, billing.PaymentKey(company.ChannelBank, strconv.FormatInt(paymentID, 10))).Scan(&txn)
	if errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("invoice %s: bank payment %d is not credited: %w", inv.Number, paymentID, derrors.NotFound)
	}
	if err != nil {
		return fmt.Errorf("invoice %s: %w", inv.Number, err)
	}
	_, err = b.s.ApplyPaymentTx(ctx, tx, inv.ID, txn, amount)
	return err
}
