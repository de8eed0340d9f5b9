package payment

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// The sandbox's saved card: its token carries the test card's last four
// digits and expiry, so that a later charge meets the card's scripted fate
// (SandboxCard.Later) even after Kabinet restarts. A real processor's
// token is opaque; nothing in Kabinet reads this one.
func sandboxSave(card SandboxCard, expiry string) SavedMethod {
	digits := strings.ReplaceAll(card.Number, " ", "")
	last4 := digits[len(digits)-4:]
	mm, yy, _ := strings.Cut(strings.TrimSpace(expiry), "/")
	exp := fmt.Sprintf("%02s/%02s", strings.TrimSpace(mm), strings.TrimSpace(yy))
	title := "Visa"
	if digits[0] == '5' {
		title = "Mastercard"
	}
	return SavedMethod{
		Token:  "sbm-" + last4 + "-" + strings.ReplaceAll(exp, "/", "") + "-" + randomHex(6),
		Masked: MaskLast4(last4), Expiry: exp, Title: title,
	}
}

// ChargeSaved charges a sandbox-saved card at once: paid, or declined with
// the card's scripted reason; a card past its expiry by the sandbox's clock
// is refused as expired. The same key gets the same answer.
func (s *Sandbox) ChargeSaved(_ context.Context, m SavedMethod, c RecurringCharge) (ChargeResult, error) {
	if c.Amount <= 0 {
		return ChargeResult{}, fmt.Errorf("sandbox: amount %s is not positive", c.Amount)
	}
	parts := strings.Split(m.Token, "-")
	if len(parts) != 4 || parts[0] != "sbm" || len(parts[1]) != 4 || len(parts[2]) != 4 {
		return ChargeResult{}, fmt.Errorf("sandbox: token %q is not the sandbox's", m.Token)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if r, ok := s.charged[c.Key]; ok {
		return r, nil
	}
	var card SandboxCard
	for _, sc := range SandboxCards {
		if strings.HasSuffix(sc.Number, parts[1]) && sc.Outcome == OutcomePaid {
			card = sc
			break
		}
	}
	r := ChargeResult{ExternalID: "sb-" + randomHex(8), Outcome: OutcomePaid}
	why := card.Later
	if card.Number == "" {
		why = ReasonIssuerDecline
	}
	if !sandboxUnexpired(parts[2], s.clock.Now()) {
		why = ReasonCardExpired
	}
	if why != ReasonNone {
		r.Outcome, r.Reason, r.DeclineCode = OutcomeDeclined, why, string(why)
	}
	if s.charged == nil {
		s.charged = map[string]ChargeResult{}
	}
	s.charged[c.Key] = r
	return r, nil
}

// sandboxUnexpired reads "MMYY": a card is good through the end of its month.
func sandboxUnexpired(mmyy string, now time.Time) bool {
	m, err1 := strconv.Atoi(mmyy[:2])
	y, err2 := strconv.Atoi(mmyy[2:])
	if err1 != nil || err2 != nil {
		return false
	}
	return validExpiry(fmt.Sprintf("%02d/%02d", m, y), now)
}
