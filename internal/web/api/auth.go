package api

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/kabinet-billing/kabinet/internal/subscriber"
)

type LoginIn struct {
	Body struct {
		Login    string `json:"login" minLength:"1" maxLength:"64"`
		Password string `json:"password" minLength:"1" maxLength:"128"`
		Device   string `json:"device,omitempty" maxLength:"100" doc:"Shown in the list of tokens, e.g. the phone's name"`
	}
}

type TokenOut struct {
	ID         int64     `json:"id"`
	Device     string    `json:"device"`
	CreatedAt  time.Time `json:"created_at"`
	LastUsedAt time.Time `json:"last_used_at"`
	Current    bool      `json:"current"`
}

type LoginOut struct {
	Body struct {
		Token   string   `json:"token" doc:"Send as Authorization: Bearer <token>; shown only once"`
		TokenID int64    `json:"token_id"`
		Account Identity `json:"account"`
	}
}

type Identity struct {
	ID         int64  `json:"id"`
	Login      string `json:"login"`
	ContractNo string `json:"contract_no"`
	Name       string `json:"name"`
}

func (a *API) login(ctx context.Context, in *LoginIn) (*LoginOut, error) {
	now := a.clock.Now()
	login := strings.ToLower(strings.TrimSpace(in.Body.Login))
	addr := ""
	if r, ok := ctx.Value(keyRequest).(*http.Request); ok {
		addr = r.RemoteAddr
	}
	// The portal's limits: one budget per login and per address for both.
	attempt, ok, _ := a.p.Logins.Allow(login, addr, now)
	if !ok {
		return nil, a.problem(ctx, http.StatusTooManyRequests, "api.error.login_limited")
	}
	acct, err := a.d.Subscribers.Authenticate(ctx, login, in.Body.Password)
	if errors.Is(err, subscriber.ErrBadPassword) {
		a.p.Logins.Failed(login, now)
		return nil, a.problem(ctx, http.StatusUnauthorized, "api.error.bad_login")
	}
	if err != nil {
		return nil, a.fail(ctx, "login", err)
	}
	a.p.Logins.Succeeded(attempt, now)
	secret, tok, err := a.d.Tokens.Issue(ctx, acct.ID, in.Body.Device)
	if err != nil {
		return nil, a.fail(ctx, "login", err)
	}
	out := &LoginOut{}
	out.Body.Token, out.Body.TokenID = secret, tok.ID
	out.Body.Account = Identity{ID: acct.ID, Login: acct.Login, ContractNo: acct.ContractNo, Name: acct.Name}
	return out, nil
}

func (a *API) logout(ctx context.Context, _ *Empty) (*Empty, error) {
	if err := a.d.Tokens.Revoke(ctx, account(ctx).ID, tokenOf(ctx).ID); err != nil {
		return nil, a.fail(ctx, "logout", err)
	}
	return nil, nil
}

func (a *API) tokenList(ctx context.Context) ([]TokenOut, error) {
	ts, err := a.d.Tokens.List(ctx, account(ctx).ID)
	if err != nil {
		return nil, err
	}
	out := make([]TokenOut, len(ts))
	for i, t := range ts {
		out[i] = TokenOut{ID: t.ID, Device: t.Name, CreatedAt: t.CreatedAt, LastUsedAt: t.LastUsedAt, Current: t.ID == tokenOf(ctx).ID}
	}
	return out, nil
}

func (a *API) tokens(ctx context.Context, _ *Empty) (*ListOut[TokenOut], error) {
	ts, err := a.tokenList(ctx)
	if err != nil {
		return nil, a.fail(ctx, "tokens", err)
	}
	return list(ts), nil
}

func (a *API) revoke(ctx context.Context, in *IDPath) (*Empty, error) {
	if err := a.d.Tokens.Revoke(ctx, account(ctx).ID, in.ID); err != nil {
		return nil, a.refused(ctx, "revoke", err)
	}
	return nil, nil
}

// --- account, tariffs, packages ---
