package portal

import (
	"net/http"
	"time"

	"github.com/kabinet-billing/kabinet/internal/importer"
	"github.com/kabinet-billing/kabinet/internal/subscriber"
)

// earlier is the account's payments in the old billing in [from, to),
// newest first, shown apart from the balance's movements: the balance
// brought over already holds them.
func (po *Portal) earlier(r *http.Request, a subscriber.Account, from, to time.Time, limit int) ([]importer.HistoryRow, error) {
	return importer.History(r.Context(), po.d.DB, a.ID, from, to, limit)
}
