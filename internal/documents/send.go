package documents

import (
	"context"
	"fmt"
	"strings"

	"github.com/kabinet-billing/kabinet/internal/derrors"
	"github.com/kabinet-billing/kabinet/internal/notify"
	"github.com/kabinet-billing/kabinet/internal/store"
)

// Mailer queues letters in a transaction (notify.Notifier).
type Mailer interface {
	EnqueueTx(ctx context.Context, tx *store.Tx, m notify.Mail) (bool, error)
}

// ErrNoEmail refuses to send documents to an organisation without an
// address for them.
var ErrNoEmail error = derrors.New(derrors.Invalid, "org_no_email", "the organisation has no e-mail for documents")

// ErrNoMail refuses to send while mail is not set up.
var ErrNoMail error = derrors.New(derrors.Unavailable, "no_mail", "mail is not set up")

// Send mails documents of one organisation to its documents address (to,
// when given, instead), one letter with each PDF attached, and marks them
// sent in the same transaction: the letter is in the queue if and only if
// they are marked. lang is the letter's language.
func (s *Service) Send(ctx context.Context, ids []int64, to, lang string) error {
	return s.db.Write(ctx, func(tx *store.Tx) error { return s.SendTx(ctx, tx, ids, to, lang) })
}

// SendTx is Send in tx (the back office audits it there).
func (s *Service) SendTx(ctx context.Context, tx *store.Tx, ids []int64, to, lang string) error {
	if s.Mailer == nil {
		return ErrNoMail
	}
	if len(ids) == 0 {
		return derrors.Invalidf("ids", "nothing_selected", "no documents to send")
	}
	var docs []Document
	var atts []notify.Attachment
	for _, id := range ids {
		d, pdf, err := s.PDF(ctx, id)
		if err != nil {
			return err
		}
		if len(docs) > 0 && d.OrgID != docs[0].OrgID {
			return derrors.Invalidf("ids", "one_organisation", "documents of different organisations go in different letters")
		}
		docs = append(docs, d)
		atts = append(atts, notify.Attachment{Name: d.FileName(), ContentType: "application/pdf", Body: pdf})
	}
	org, err := s.dir.Organisation(ctx, docs[0].OrgID)
	if err != nil {
		return err
	}
	if strings.TrimSpace(to) == "" {
		to = org.Email
	}
	if strings.TrimSpace(to) == "" {
		return fmt.Errorf("%s: %w", org.Title(), ErrNoEmail)
	}
	var lines []string
	for _, d := range docs {
		line := "— " + d.Title()
		if d.Total != 0 && d.Kind != Reconciliation {
			line += ", " + d.Total.Format("ru")
		}
		lines = append(lines, line)
	}
	subject := docs[0].Title()
	if len(docs) > 1 {
		subject = fmt.Sprintf("документы (%d)", len(docs))
		if lang == "en" {
			subject = fmt.Sprintf("documents (%d)", len(docs))
		}
	}
	letter := notify.Letter{Name: org.Title(), ContractNo: org.ContractNo, Subject: subject, Documents: strings.Join(lines, "\n") + "\n"}
	if _, err := s.Mailer.EnqueueTx(ctx, tx, notify.Mail{Kind: notify.KindDocuments, To: to, Lang: lang, Letter: letter, Attachments: atts}); err != nil {
		return err
	}
	for _, d := range docs {
		if err := s.MarkSentTx(ctx, tx, d.ID); err != nil {
			return err
		}
	}
	return nil
}

// Organisations lists the organisations documents are issued to.
func (s *Service) Organisations(ctx context.Context) ([]Party, error) {
	return s.dir.Organisations(ctx)
}
