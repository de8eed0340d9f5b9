// Package sms sends text messages over SMPP (internal/smpp) and keeps what
// became of them: each part handed to the SMSC is a row of sms_parts, and
// the SMSC's delivery receipt marks it delivered or not. Numbers are
// normalized to +7 first; a subscriber without one is a clear refusal
// (phone.ErrMissing), never a message to nowhere.
package sms

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"log/slog"
	"time"

	"github.com/kabinet-billing/kabinet/internal/clock"
	"github.com/kabinet-billing/kabinet/internal/config"
	"github.com/kabinet-billing/kabinet/internal/phone"
	"github.com/kabinet-billing/kabinet/internal/smpp"
	"github.com/kabinet-billing/kabinet/internal/store"
)

// Submitter hands a text to the SMSC: smpp.Sender. It sends the parts
// after the first sent, cut with concatenation reference ref.
type Submitter interface {
	Send(ctx context.Context, dest, text string, ref byte, sent int) ([]string, error)
}

// Service sends SMS and records their receipts.
type Service struct {
	DB     *store.DB
	Clock  clock.Clock
	Sender Submitter
	Log    *slog.Logger
}

// New makes a Service over an SMPP sender built from [sms]; with no host
// configured it is nil (the channel is off).
func New(db *store.DB, clk clock.Clock, c config.SMS, log *slog.Logger) *Service {
	if c.Host == "" {
		return nil
	}
	if log == nil {
		log = slog.Default()
	}
	s := &Service{DB: db, Clock: clk, Log: log}
	s.Sender = smpp.NewSender(SMPPConfig(c, s.Receipt, log))
	return s
}

// SMPPConfig is the SMPP connection [sms] describes; receipts go to onReceipt.
func SMPPConfig(c config.SMS, onReceipt func(smpp.Receipt), log *slog.Logger) smpp.Config {
	return smpp.Config{Addr: fmt.Sprintf("%s:%d", c.Host, c.Port), SystemID: c.SystemID, Password: c.Password,
		SystemType: c.SystemType, Source: c.SourceAddr, Transmitter: c.Transmitter, Window: c.Window, Rate: c.Rate,
		EnquireLink: c.EnquireLink, Timeout: c.Timeout, Log: log,
		OnReceipt: func(r smpp.Receipt) {
			onReceipt(r)
		}}
}

// Message is one SMS to send.
type Message struct {
	Ref       string // the caller's id of the message (the queue's), to read its delivery by
	AccountID int64
	Phone     string // as the contract has it
	Text      string
}

// Send normalizes the number, submits the text and records its parts. A
// message sent again (the queue retrying after a part was refused or the
// connection dropped) sends only the parts not yet recorded, cut as the
// first attempt cut them, so that the phone shows one whole message. It
// returns the SMSC's message ids of every part. phone.ErrMissing and phone.ErrInvalid are refusals of
// the message itself (permanent); others come from smpp (see
// smpp.Temporary).
func (s *Service) Send(ctx context.Context, m Message) ([]string, error) {
	number, err := phone.Normalize(m.Phone)
	if err != nil {
		return nil, fmt.Errorf("sms %s to account %d: %w", m.Ref, m.AccountID, err)
	}
	done, err := s.submitted(ctx, m.Ref)
	if err != nil {
		return nil, fmt.Errorf("sms %s: %w", m.Ref, err)
	}
	ids, sendErr := s.Sender.Send(ctx, number[1:], m.Text, concatRef(m.Ref), len(done))
	if len(ids) > 0 {
		now := s.Clock.Now().UTC()
		var acct any
		if m.AccountID != 0 {
			acct = m.AccountID
		}
		err := s.DB.Write(context.WithoutCancel(ctx), func(tx *store.Tx) error {
			for i, id := range ids {
				if _, err := tx.Exec(ctx, `INSERT INTO sms_parts (smsc_id, message_ref, account_id, phone, part, parts, submitted_at) VALUES (?, ?, ?, ?, ?, ?, ?)`,
					id, m.Ref, acct, number, len(done)+i+1, len(done)+len(ids), now); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			// Sent but not recorded: its receipts will find no row. The
			// message went, so this is no reason to send it again.
			s.Log.Error("sms sent but not recorded", "ref", m.Ref, "ids", ids, "err", err)
		}
	}
	ids = append(done, ids...)
	if sendErr != nil {
		return ids, fmt.Errorf("sms %s to %s: %w", m.Ref, number, sendErr)
	}
	return ids, nil
}

// submitted are the SMSC's ids of the parts of message ref already
// submitted, in order ("" has none: a message without a ref is sent whole).
func (s *Service) submitted(ctx context.Context, ref string) ([]string, error) {
	if ref == "" {
		return nil, nil
	}
	rows, err := s.DB.Query(ctx, `SELECT smsc_id FROM sms_parts WHERE message_ref = ? ORDER BY part`, ref)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var ids []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		ids = append(ids, id)
	}
	return ids, rows.Err()
}

// concatRef is the concatenation reference of a message's parts: the same
// for every attempt of one message, so that parts sent again join those
// sent before (the phone joins parts by sender, reference and count).
func concatRef(ref string) byte {
	h := fnv.New32a()
	h.Write([]byte(ref))
	return byte(h.Sum32())
}

// Permanent tells an error Send returned that sending again cannot cure:
// no phone, a bad number, the SMSC refusing the message itself.
func Permanent(err error) bool {
	if errors.Is(err, phone.ErrMissing) || errors.Is(err, phone.ErrInvalid) {
		return true
	}
	return err != nil && !smpp.Temporary(err)
}

// Receipt records a delivery receipt by the SMSC's message id (the part
// it belongs to may not be recorded yet: see sms_receipts).
func (s *Service) Receipt(r smpp.Receipt) {
	ctx := context.Background()
	err := s.DB.Write(ctx, func(tx *store.Tx) error {
		_, err := tx.Exec(ctx, `INSERT INTO sms_receipts (smsc_id, state, error, received_at) VALUES (?, ?, ?, ?)
			ON CONFLICT (smsc_id) DO UPDATE SET state = excluded.state, error = excluded.error, received_at = excluded.received_at`,
			r.MessageID, r.State, r.Err, s.Clock.Now().UTC())
		return err
	})
	if err != nil {
		s.Log.Error("sms receipt not recorded", "smsc_id", r.MessageID, "state", r.State, "err", err)
	}
}

// Delivery states of a message.
const (
	StateUnknown   = ""          // never sent
	StateSent      = "sent"      // handed to the SMSC, no final receipt for every part yet
	StateDelivered = "delivered" // every part delivered
	StateFailed    = "failed"    // a part expired, was rejected or undeliverable
)

// Delivery is what became of a message: its state and when the last
// receipt came.
type Delivery struct {
	State string
	Parts int
	At    time.Time
}

// DeliveryOf reads the state of the message ref from its parts' receipts.
func (s *Service) DeliveryOf(ctx context.Context, ref string) (Delivery, error) {
	rows, err := s.DB.Query(ctx, `SELECT COALESCE(r.state, ''), r.received_at FROM sms_parts p
		LEFT JOIN sms_receipts r ON r.smsc_id = p.smsc_id WHERE p.message_ref = ?`, ref)
	if err != nil {
		return Delivery{}, fmt.Errorf("sms %s: %w", ref, err)
	}
	defer rows.Close()
	d := Delivery{}
	delivered := 0
	for rows.Next() {
		var state string
		var at store.Time
		if err := rows.Scan(&state, &at); err != nil {
			return Delivery{}, err
		}
		d.Parts++
		if at.Valid && at.Time.After(d.At) {
			d.At = at.Time
		}
		r := smpp.Receipt{State: state}
		switch {
		case r.Delivered():
			delivered++
		case r.Final():
			d.State = StateFailed
		}
	}
	if err := rows.Err(); err != nil {
		return Delivery{}, err
	}
	switch {
	case d.Parts == 0:
	case d.State == StateFailed:
	case delivered == d.Parts:
		d.State = StateDelivered
	default:
		d.State = StateSent
	}
	return d, nil
}

// Close unbinds from the SMSC.
func (s *Service) Close() error {
	if c, ok := s.Sender.(interface{ Close() error }); ok {
		return c.Close()
	}
	return nil
}
