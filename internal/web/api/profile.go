package api

import (
	"context"

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
