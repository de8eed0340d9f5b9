package admin

import (
	"net/http"

	"github.com/kabinet-billing/kabinet/internal/autopay"
)

type autopayData struct {
	Rows  []autopay.Row
	State string
	Off   bool // autopay is not wired
}

// autopays lists the subscribers' autopay: who has it on, on which card,
// how the latest charge went; ?state=on or off narrows it.
func (a *Admin) autopays(w http.ResponseWriter, r *http.Request) {
	d := autopayData{State: r.URL.Query().Get("state"), Off: a.d.Office.Autopay == nil}
	var err error
	if d.Rows, err = a.d.Office.Autopays(r.Context(), d.State); err != nil {
		a.failed(w, r, "/admin/autopay", err)
		return
	}
	a.render(w, r, http.StatusOK, "autopay", "admin.autopay.title", "autopay", d)
}

// disableAutopay turns a subscriber's autopay off with a note, audited.
func (a *Admin) disableAutopay(w http.ResponseWriter, r *http.Request) {
	id, ok := pathID(r, "id")
	if !ok {
		a.p.NotFound(w, r)
		return
	}
	if err := a.d.Office.DisableAutopay(r.Context(), a.who(r), id, r.PostFormValue("note")); err != nil {
		a.failed(w, r, "/admin/autopay", err)
		return
	}
	a.done(w, r, "/admin/autopay", "admin.flash.autopay_disabled")
}
