package portal

import (
	"errors"
	"net/http"
	"strconv"

	"github.com/kabinet-billing/kabinet/internal/derrors"
	"github.com/kabinet-billing/kabinet/internal/subscriber"
	"github.com/kabinet-billing/kabinet/internal/support"
)

type requestsData struct {
	Requests []support.Request
	Request  support.Request
	Kinds    []string
	Form     map[string]string
}

// requestsPage renders the requests with the new one's form; field names
// the input msg is about.
func (po *Portal) requestsPage(w http.ResponseWriter, r *http.Request, a subscriber.Account, status int, field, msg string, form map[string]string) {
	list, err := po.d.Support.Requests(r.Context(), a.ID)
	if err != nil {
		po.p.Fail(w, r, err)
		return
	}
	v := po.view(r, a, "requests.title", "requests", requestsData{Requests: list, Kinds: support.Kinds, Form: form})
	if msg != "" {
		po.p.FieldError(&v, field, msg, nil)
	}
	po.render(w, r, status, "requests", v)
}

func (po *Portal) requests(w http.ResponseWriter, r *http.Request, a subscriber.Account) {
	po.requestsPage(w, r, a, http.StatusOK, "", "", map[string]string{"kind": r.URL.Query().Get("kind")})
}

func (po *Portal) fileRequest(w http.ResponseWriter, r *http.Request, a subscriber.Account) {
	form := map[string]string{"kind": r.PostFormValue("kind"), "subject": r.PostFormValue("subject"), "body": r.PostFormValue("body")}
	req, err := po.d.Support.File(r.Context(), a.ID, form["kind"], form["subject"], form["body"])
	if errors.Is(err, derrors.Invalid) {
		field := derrors.Field(err)
		if field == "" {
			field = "body"
		}
		po.requestsPage(w, r, a, http.StatusUnprocessableEntity, field, "requests.error."+field, form)
		return
	}
	if err != nil {
		po.p.Fail(w, r, err)
		return
	}
	po.redirect(w, r, "/requests/"+strconv.FormatInt(req.ID, 10), "requests.filed")
}

func (po *Portal) request(w http.ResponseWriter, r *http.Request, a subscriber.Account) {
	po.requestPage(w, r, a, http.StatusOK, "")
}

// requestPage renders one request; msg is an error about the reply typed
// (kept in the form).
func (po *Portal) requestPage(w http.ResponseWriter, r *http.Request, a subscriber.Account, status int, msg string) {
	id, ok := pathID(r, "id")
	if !ok {
		po.p.NotFound(w, r)
		return
	}
	req, err := po.d.Support.RequestOf(r.Context(), a.ID, id)
	if errors.Is(err, derrors.NotFound) {
		po.p.NotFound(w, r)
		return
	}
	if err != nil {
		po.p.Fail(w, r, err)
		return
	}
	v := po.view(r, a, "requests.title", "requests", requestsData{Request: req, Form: map[string]string{"body": r.PostFormValue("body")}})
	if msg != "" {
		po.p.FieldError(&v, "body", msg, nil)
	}
	po.render(w, r, status, "request", v)
}

func (po *Portal) replyRequest(w http.ResponseWriter, r *http.Request, a subscriber.Account) {
	id, ok := pathID(r, "id")
	if !ok {
		po.p.NotFound(w, r)
		return
	}
	err := po.d.Support.Reply(r.Context(), a.ID, id, r.PostFormValue("body"))
	switch {
	case errors.Is(err, derrors.NotFound):
		po.p.NotFound(w, r)
	case errors.Is(err, derrors.Invalid):
		po.requestPage(w, r, a, http.StatusUnprocessableEntity, "requests.error.reply")
	case err != nil:
		po.p.Fail(w, r, err)
	default:
		po.redirect(w, r, "/requests/"+strconv.FormatInt(id, 10), "requests.replied")
	}
}

type chatData struct {
	Messages []support.Message
	Last     int64
}

func (po *Portal) chatData(r *http.Request, a subscriber.Account, after int64) (chatData, error) {
	msgs, err := po.d.Support.Chat(r.Context(), a.ID, after)
	d := chatData{Messages: msgs, Last: after}
	if len(msgs) > 0 {
		d.Last = msgs[len(msgs)-1].ID
	}
	return d, err
}

func (po *Portal) chat(w http.ResponseWriter, r *http.Request, a subscriber.Account) {
	d, err := po.chatData(r, a, 0)
	if err != nil {
		po.p.Fail(w, r, err)
		return
	}
	po.render(w, r, http.StatusOK, "chat", po.view(r, a, "chat.title", "requests", d))
}

// chatMessages is what the chat page polls (htmx, every few seconds): the
// messages after the last one it has, and a new poller that remembers the
// new last id.
func (po *Portal) chatMessages(w http.ResponseWriter, r *http.Request, a subscriber.Account) {
	after, _ := strconv.ParseInt(r.URL.Query().Get("after"), 10, 64)
	d, err := po.chatData(r, a, max(after, 0))
	if err != nil {
		po.p.Fail(w, r, err)
		return
	}
	po.p.HTML(w, r, http.StatusOK, "portal/chat", "chat-messages", po.view(r, a, "chat.title", "requests", d))
}

func (po *Portal) say(w http.ResponseWriter, r *http.Request, a subscriber.Account) {
	_, err := po.d.Support.Say(r.Context(), a.ID, r.PostFormValue("body"))
	invalid := errors.Is(err, derrors.Invalid)
	if err != nil && !invalid {
		po.p.Fail(w, r, err)
		return
	}
	if r.Header.Get("HX-Request") == "true" {
		// A fresh, empty form replaces the sent one; the trigger makes the
		// poller fetch the new message at once. A refused message comes
		// back in its form with the reason (200: htmx swaps only that).
		v := po.view(r, a, "chat.title", "requests", nil)
		if invalid {
			po.p.FieldError(&v, "body", "chat.error.body", nil)
		} else {
			w.Header().Set("HX-Trigger", "chat-new")
		}
		po.p.HTML(w, r, http.StatusOK, "portal/chat", "chat-form", v)
		return
	}
	if invalid {
		d, err := po.chatData(r, a, 0)
		if err != nil {
			po.p.Fail(w, r, err)
			return
		}
		v := po.view(r, a, "chat.title", "requests", d)
		po.p.FieldError(&v, "body", "chat.error.body", nil)
		po.render(w, r, http.StatusUnprocessableEntity, "chat", v)
		return
	}
	http.Redirect(w, r, "/chat", http.StatusSeeOther)
}
