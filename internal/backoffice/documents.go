package backoffice

import (
	"context"
	"fmt"
	"time"

	"github.com/kabinet-billing/kabinet/internal/derrors"
	"github.com/kabinet-billing/kabinet/internal/documents"
	"github.com/kabinet-billing/kabinet/internal/operator"
	"github.com/kabinet-billing/kabinet/internal/store"
)

// ErrNoDocuments: the documents capability is not wired (no company clients).
var ErrNoDocuments error = derrors.New(derrors.NotFound, "no_documents", "documents are off")

func (o *Office) docs() (*documents.Service, error) {
	if o.Documents == nil {
		return nil, ErrNoDocuments
	}
	return o.Documents, nil
}

func documentObject(id int64) string { return fmt.Sprintf("document:%d", id) }

// ListDocuments lists company clients' documents.
func (o *Office) ListDocuments(ctx context.Context, w Who, f documents.Filter) ([]documents.Document, int, error) {
	if err := w.must(operator.ViewSubscribers); err != nil {
		return nil, 0, err
	}
	s, err := o.docs()
	if err != nil {
		return nil, 0, err
	}
	return s.List(ctx, f)
}

// DocumentPDF is a document's PDF as issued, for download.
func (o *Office) DocumentPDF(ctx context.Context, w Who, id int64) (documents.Document, []byte, error) {
	if err := w.must(operator.ViewSubscribers); err != nil {
		return documents.Document{}, nil, err
	}
	s, err := o.docs()
	if err != nil {
		return documents.Document{}, nil, err
	}
	return s.PDF(ctx, id)
}

// SendDocument mails a document to its organisation; the letter, the
// status and the audit entry commit together.
func (o *Office) SendDocument(ctx context.Context, w Who, id int64, to, lang string) error {
	if err := w.must(operator.EditSubscribers); err != nil {
		return err
	}
	s, err := o.docs()
	if err != nil {
		return err
	}
	return o.audited(ctx, w, func(tx *store.Tx) (operator.Entry, error) {
		if err := s.SendTx(ctx, tx, []int64{id}, to, lang); err != nil {
			return operator.Entry{}, err
		}
		return operator.Entry{Action: "document.send", Object: documentObject(id), After: map[string]any{"to": to}}, nil
	})
}

// MarkDocumentPaid marks an invoice paid by hand (the money came some way
// the matching did not see), audited with it.
func (o *Office) MarkDocumentPaid(ctx context.Context, w Who, id int64) error {
	if err := w.must(operator.CorrectBalance); err != nil {
		return err
	}
	s, err := o.docs()
	if err != nil {
		return err
	}
	return o.audited(ctx, w, func(tx *store.Tx) (operator.Entry, error) {
		d, err := s.MarkPaidTx(ctx, tx, id)
		if err != nil {
			return operator.Entry{}, err
		}
		return operator.Entry{Action: "document.paid", Object: documentObject(id), After: map[string]any{"number": d.Number, "total": d.Total.Decimal()}}, nil
	})
}

// IssueReconciliation issues an organisation's reconciliation act for the
// days from..to. The act is numbered and stored in its own transaction;
// the audit entry follows it.
func (o *Office) IssueReconciliation(ctx context.Context, w Who, orgID int64, from, to time.Time) (documents.Document, error) {
	if err := w.must(operator.EditSubscribers); err != nil {
		return documents.Document{}, err
	}
	s, err := o.docs()
	if err != nil {
		return documents.Document{}, err
	}
	d, err := s.Reconcile(ctx, orgID, from, to)
	if err != nil {
		return d, err
	}
	return d, o.Record(ctx, w, operator.Entry{Action: "document.reconciliation", Object: documentObject(d.ID),
		After: map[string]any{"number": d.Number, "org": orgID, "from": from.Format("2006-01-02"), "to": to.Format("2006-01-02")}})
}

// Organisations are the company clients documents go to.
func (o *Office) Organisations(ctx context.Context) ([]documents.Party, error) {
	s, err := o.docs()
	if err != nil {
		return nil, err
	}
	return s.Organisations(ctx)
}
