package admin

import (
	"cmp"
	"fmt"
	"net/http"
	"strings"

	"github.com/kabinet-billing/kabinet/internal/billing"
	"github.com/kabinet-billing/kabinet/internal/support"
	"github.com/kabinet-billing/kabinet/internal/web/platform"
)

type supportData struct {
	CityCodes     map[int64]string
	TariffNames   map[string]*billing.Tariff // by code: an application names its tariff by code
	Requests      []support.Request
	Assignees     map[int64]string
	Applications  []support.Application
	Conversations []support.Conversation
	AppStatus     string
	AppStatuses   []string
	RL, AL, CL    platform.Listing
}

func (a *Admin) supportQueue(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	d := supportData{AppStatus: r.URL.Query().Get("apps"), AppStatuses: []string{"new", "called", "contracted", "rejected"}}
	var err error
	if d.Requests, err = a.d.Support.OpenRequests(ctx, 200); err == nil {
		d.Assignees, err = a.d.Support.Assignees(ctx)
	}
	if err == nil {
		var cities []billing.City
		if cities, err = billing.Cities(ctx, a.d.Office.DB); err == nil {
			d.CityCodes = map[int64]string{}
			for _, c := range cities {
				d.CityCodes[c.ID] = c.Code
			}
		}
	}
	if err == nil {
		var tariffs []billing.Tariff
		if tariffs, err = billing.Tariffs(ctx, a.d.Office.DB, 0, false); err == nil {
			d.TariffNames = map[string]*billing.Tariff{}
			for _, t := range tariffs {
				d.TariffNames[t.Code] = &t
			}
		}
	}
	if err == nil {
		if d.Applications, err = a.d.Support.Applications(ctx, d.AppStatus, 1000); err == nil {
			d.Conversations, err = a.d.Support.Conversations(ctx, 500)
		}
	}
	if err != nil {
		a.p.Fail(w, r, err)
		return
	}
	// The open requests, the newest applications and chats: read whole
	// (bounded), sorted and paged here, each table by its own keys.
	d.RL = platform.NamedListing(r, "requests", 50, true, "updated", "id", "subject", "status")
	d.Requests = platform.SortPage(&d.RL, d.Requests, map[string]func(x, y support.Request) int{
		"updated": func(x, y support.Request) int { return x.UpdatedAt.Compare(y.UpdatedAt) },
		"id":      func(x, y support.Request) int { return cmp.Compare(x.ID, y.ID) },
		"subject": func(x, y support.Request) int { return platform.Fold(x.Subject, y.Subject) },
		"status":  func(x, y support.Request) int { return strings.Compare(x.Status, y.Status) },
	})
	d.AL = platform.NamedListing(r, "apps", 50, true, "created", "name", "status")
	d.Applications = platform.SortPage(&d.AL, d.Applications, map[string]func(x, y support.Application) int{
		"created": func(x, y support.Application) int { return x.CreatedAt.Compare(y.CreatedAt) },
		"name":    func(x, y support.Application) int { return platform.Fold(x.Name, y.Name) },
		"status":  func(x, y support.Application) int { return strings.Compare(x.Status, y.Status) },
	})
	d.CL = platform.NamedListing(r, "chats", 20, true, "last")
	d.Conversations = platform.SortPage(&d.CL, d.Conversations, map[string]func(x, y support.Conversation) int{
		"last": func(x, y support.Conversation) int { return x.LastAt.Compare(y.LastAt) },
	})
	a.render(w, r, http.StatusOK, "support", "admin.support.title", "support", d)
}

type requestData struct {
	Request  support.Request
	Statuses []string
	Assignee string
	Me       string
}

func (a *Admin) loadRequest(r *http.Request) (support.Request, bool) {
	id, ok := pathID(r, "id")
	if !ok {
		return support.Request{}, false
	}
	req, err := a.d.Support.Request(r.Context(), id)
	return req, err == nil
}

func (a *Admin) request(w http.ResponseWriter, r *http.Request) {
	req, ok := a.loadRequest(r)
	if !ok {
		a.p.NotFound(w, r)
		return
	}
	who, err := a.d.Support.Assignee(r.Context(), req.ID)
	if err != nil {
		a.p.Fail(w, r, err)
		return
	}
	a.render(w, r, http.StatusOK, "request", "admin.request.title", "support", requestData{Request: req,
		Statuses: []string{support.StatusInProgress, support.StatusAnswered, support.StatusClosed}, Assignee: who, Me: opOf(r).Login})
}

func (a *Admin) answer(w http.ResponseWriter, r *http.Request) {
	id, ok := pathID(r, "id")
	if !ok {
		a.p.NotFound(w, r)
		return
	}
	to := fmt.Sprintf("/admin/support/requests/%d", id)
	if err := a.d.Office.AnswerRequest(r.Context(), a.who(r), id, r.PostFormValue("body"), r.PostFormValue("status")); err != nil {
		a.failedOn(w, r, to, err)
		return
	}
	a.done(w, r, to, "admin.flash.saved")
}

func (a *Admin) applicationStatus(w http.ResponseWriter, r *http.Request) {
	id, ok := pathID(r, "id")
	if !ok {
		a.p.NotFound(w, r)
		return
	}
	if err := a.d.Office.SetApplicationStatus(r.Context(), a.who(r), id, r.PostFormValue("status"), r.PostFormValue("note")); err != nil {
		a.failedOn(w, r, "/admin/support", err)
		return
	}
	a.done(w, r, "/admin/support", "admin.flash.saved")
}

type chatData struct {
	AccountID int64
	Login     string
	Messages  []support.Message
}

func (a *Admin) chat(w http.ResponseWriter, r *http.Request) {
	id, ok := pathID(r, "account")
	if !ok {
		a.p.NotFound(w, r)
		return
	}
	acct, err := a.d.Office.Dir.ByID(r.Context(), id)
	if err != nil {
		a.p.NotFound(w, r)
		return
	}
	msgs, err := a.d.Support.Chat(r.Context(), id, 0)
	if err != nil {
		a.p.Fail(w, r, err)
		return
	}
	d := chatData{AccountID: id, Login: acct.Login, Messages: msgs}
	if r.Header.Get("HX-Request") != "" {
		v := a.p.NewView(r, "admin.chat.title", page{Op: opOf(r), X: d})
		a.p.HTML(w, r, http.StatusOK, "admin/chat", "messages", v)
		return
	}
	a.render(w, r, http.StatusOK, "chat", "admin.chat.title", "support", d)
}

func (a *Admin) respond(w http.ResponseWriter, r *http.Request) {
	id, ok := pathID(r, "account")
	if !ok {
		a.p.NotFound(w, r)
		return
	}
	to := fmt.Sprintf("/admin/support/chat/%d", id)
	if _, err := a.d.Office.RespondChat(r.Context(), a.who(r), id, r.PostFormValue("body")); err != nil {
		a.failedOn(w, r, to, err)
		return
	}
	http.Redirect(w, r, to, http.StatusSeeOther)
}

// assign takes the request ("take" set) or gives it up.
func (a *Admin) assign(w http.ResponseWriter, r *http.Request) {
	id, ok := pathID(r, "id")
	if !ok {
		a.p.NotFound(w, r)
		return
	}
	to := fmt.Sprintf("/admin/support/requests/%d", id)
	if err := a.d.Office.AssignRequest(r.Context(), a.who(r), id, r.PostFormValue("take") != ""); err != nil {
		a.failedOn(w, r, to, err)
		return
	}
	a.done(w, r, to, "admin.flash.saved")
}
