package api

import (
	"context"
	"net/http"

	"github.com/kabinet-billing/kabinet/internal/subscriber"
	"github.com/kabinet-billing/kabinet/internal/web/platform"
)

type ProfileBody struct {
	Login        string     `json:"login" readOnly:"true"`
	ContractNo   string     `json:"contract_no" readOnly:"true"`
	ContractDate string     `json:"contract_date" readOnly:"true"`
	Name         string     `json:"name" readOnly:"true"`
	Address      string     `json:"address" readOnly:"true"`
	City         string     `json:"city" readOnly:"true"`
	Email        string     `json:"email"`
	Phone        string     `json:"phone"`
	NotifyEmail  bool       `json:"notify_email"`
	NotifySMS    bool       `json:"notify_sms"`
	Lang         string     `json:"lang" enum:"ru,en"`
	Tokens       []TokenOut `json:"tokens" readOnly:"true" doc:"Devices logged in; revoke with DELETE /tokens/{id}"`
}

type ProfileOut struct{ Body ProfileBody }

func (a *API) profileOf(ctx context.Context, acct subscriber.Account) (*ProfileOut, error) {
	ts, err := a.tokenList(ctx)
	if err != nil {
		return nil, a.fail(ctx, "profile", err)
	}
	return &ProfileOut{Body: ProfileBody{Login: acct.Login, ContractNo: acct.ContractNo, ContractDate: acct.ContractDate, Name: acct.Name,
		Address: acct.Address, City: acct.CityName, Email: acct.Email, Phone: acct.Phone, NotifyEmail: acct.NotifyEmail,
		NotifySMS: acct.NotifySMS, Lang: acct.Lang, Tokens: ts}}, nil
}

func (a *API) profile(ctx context.Context, _ *Empty) (*ProfileOut, error) {
	return a.profileOf(ctx, account(ctx))
}

type ProfileIn struct {
	Body struct {
		Email       string `json:"email" maxLength:"200"`
		Phone       string `json:"phone" maxLength:"40"`
		NotifyEmail bool   `json:"notify_email"`
		NotifySMS   bool   `json:"notify_sms"`
		Lang        string `json:"lang" enum:"ru,en"`
	}
}

func (a *API) updateProfile(ctx context.Context, in *ProfileIn) (*ProfileOut, error) {
	acct := account(ctx)
	err := a.d.Subscribers.UpdateProfile(ctx, acct.ID, subscriber.Profile{Email: in.Body.Email, Phone: in.Body.Phone,
		NotifyEmail: in.Body.NotifyEmail, NotifySMS: in.Body.NotifySMS, Lang: in.Body.Lang})
	if err != nil {
		return nil, a.refused(ctx, "update profile", err)
	}
	if acct, err = a.d.Subscribers.ByID(ctx, acct.ID); err != nil {
		return nil, a.fail(ctx, "update profile", err)
	}
	return a.profileOf(ctx, acct)
}

type PasswordIn struct {
	Body struct {
		Current string `json:"current" minLength:"1" maxLength:"128"`
		New     string `json:"new" minLength:"1" maxLength:"128"`
	}
}

func (a *API) changePassword(ctx context.Context, in *PasswordIn) (*Empty, error) {
	// Every other token of the account ends with the old password (in the
	// same transaction), and so does every web session.
	err := a.d.Subscribers.ChangePassword(ctx, account(ctx).ID, in.Body.Current, in.Body.New, tokenOf(ctx).ID)
	if err == nil {
		err = a.p.EndSessions(ctx, platform.SessionAccount, account(ctx).ID)
	}
	if err != nil {
		return nil, a.refused(ctx, "change password", err)
	}
	return nil, nil
}

// --- notification choices ---

type NotifyChannelOut struct {
	Channel   string `json:"channel" enum:"email,telegram,sms,push"`
	Reachable bool   `json:"reachable" doc:"The subscriber has an address there (an e-mail, a phone, a linked Telegram chat, a push subscription); messages go only to reachable channels"`
}

type NotifyTopicOut struct {
	Topic    string          `json:"topic" enum:"payment_received,low_balance,limited,promise_ending,suspension_ending,request_answered"`
	Title    string          `json:"title" doc:"The topic in the client's language"`
	Channels map[string]bool `json:"channels" doc:"Channel → on, for every channel offered"`
}

type NotificationsOut struct {
	Body struct {
		Channels []NotifyChannelOut `json:"channels" doc:"The channels this provider sends on"`
		Topics   []NotifyTopicOut   `json:"topics"`
	}
}

type NotificationsIn struct {
	Body struct {
		Topics []struct {
			Topic    string          `json:"topic" enum:"payment_received,low_balance,limited,promise_ending,suspension_ending,request_answered"`
			Channels map[string]bool `json:"channels" doc:"Channel → on; channels not named keep their choice"`
		} `json:"topics"`
	}
}

func (a *API) notificationsOf(ctx context.Context, id int64) (*NotificationsOut, error) {
	p, err := a.d.Notify.Prefs(ctx, id)
	if err != nil {
		return nil, a.fail(ctx, "notifications", err)
	}
	out := &NotificationsOut{}
	for _, ch := range p.Offered {
		out.Body.Channels = append(out.Body.Channels, NotifyChannelOut{Channel: ch, Reachable: p.Reachable[ch]})
	}
	l := lang(ctx)
	for _, c := range p.Choices {
		out.Body.Topics = append(out.Body.Topics, NotifyTopicOut{Topic: c.Topic, Title: a.t(l, "notify.topic."+c.Topic), Channels: c.Channels})
	}
	return out, nil
}

func (a *API) notifications(ctx context.Context, _ *Empty) (*NotificationsOut, error) {
	if a.d.Notify == nil {
		return nil, a.problem(ctx, http.StatusServiceUnavailable, "api.error.unavailable")
	}
	return a.notificationsOf(ctx, account(ctx).ID)
}

func (a *API) updateNotifications(ctx context.Context, in *NotificationsIn) (*NotificationsOut, error) {
	if a.d.Notify == nil {
		return nil, a.problem(ctx, http.StatusServiceUnavailable, "api.error.unavailable")
	}
	set := map[string]map[string]bool{}
	for _, t := range in.Body.Topics {
		if set[t.Topic] == nil {
			set[t.Topic] = map[string]bool{}
		}
		for ch, on := range t.Channels {
			set[t.Topic][ch] = on
		}
	}
	id := account(ctx).ID
	if err := a.d.Notify.SetPrefs(ctx, id, set); err != nil {
		return nil, a.refused(ctx, "notifications", err)
	}
	return a.notificationsOf(ctx, id)
}
