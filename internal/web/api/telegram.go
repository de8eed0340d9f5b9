package api

import (
	"context"
	"net/http"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"github.com/kabinet-billing/kabinet/internal/telegram"
)

// TelegramBot is the subscribers' bot as the app needs it: its name and
// the deep link that carries a linking token.
type TelegramBot interface {
	Username() string
	DeepLink(token string) string
}

type TelegramOut struct {
	Body struct {
		Available bool       `json:"available" doc:"The provider runs a Telegram bot"`
		Bot       string     `json:"bot,omitempty" doc:"The bot's username, without @"`
		Linked    bool       `json:"linked" doc:"A Telegram chat is linked to this account"`
		Username  string     `json:"username,omitempty" doc:"The linked user's Telegram username, if they have one"`
		LinkedAt  *time.Time `json:"linked_at,omitempty"`
	}
}

type TelegramLinkOut struct {
	Body struct {
		Link      string    `json:"link" doc:"Open it on the phone: Telegram opens the bot, Start links the chat" example:"https://t.me/set_region_bot?start=Zm9vYmFy"`
		ExpiresAt time.Time `json:"expires_at" doc:"The link works once, until then"`
	}
}

func (a *API) telegramOperations() {
	reg(a, true, huma.Operation{OperationID: "telegram", Method: http.MethodGet, Path: "/telegram", Tags: []string{"Profile"},
		Summary: "Whether Telegram is linked to the account, and the provider's bot"}, a.telegramState)
	reg(a, true, huma.Operation{OperationID: "telegram-link", Method: http.MethodPost, Path: "/telegram/link", Tags: []string{"Profile"},
		Summary: "A one-time link that connects the user's Telegram to the account (404 when the provider runs no bot)", Errors: []int{http.StatusNotFound}}, a.telegramLink)
	reg(a, true, huma.Operation{OperationID: "telegram-unlink", Method: http.MethodDelete, Path: "/telegram", Tags: []string{"Profile"},
		Summary: "Disconnect Telegram: no more notifications there", DefaultStatus: 204}, a.telegramUnlink)
}

func (a *API) telegramReady() bool {
	return a.d.Telegram != nil && a.d.TelegramLinks != nil && a.d.Telegram.Username() != ""
}

func (a *API) telegramState(ctx context.Context, _ *Empty) (*TelegramOut, error) {
	out := &TelegramOut{}
	if !a.telegramReady() {
		return out, nil
	}
	out.Body.Available, out.Body.Bot = true, a.d.Telegram.Username()
	k, ok, err := a.d.TelegramLinks.OfAccount(ctx, account(ctx).ID)
	if err != nil {
		return nil, a.fail(ctx, "telegram", err)
	}
	if ok {
		out.Body.Linked, out.Body.Username, out.Body.LinkedAt = true, k.Username, &k.LinkedAt
	}
	return out, nil
}

func (a *API) telegramLink(ctx context.Context, _ *Empty) (*TelegramLinkOut, error) {
	if !a.telegramReady() {
		// No bot: nothing to link to, as if the operation were not there.
		return nil, a.problem(ctx, http.StatusNotFound, "api.error.unavailable")
	}
	token, expires, err := a.d.TelegramLinks.NewToken(ctx, account(ctx).ID)
	if err != nil {
		return nil, a.fail(ctx, "telegram link", err)
	}
	out := &TelegramLinkOut{}
	out.Body.Link, out.Body.ExpiresAt = a.d.Telegram.DeepLink(token), expires
	return out, nil
}

func (a *API) telegramUnlink(ctx context.Context, _ *Empty) (*Empty, error) {
	if a.d.TelegramLinks == nil {
		return &Empty{}, nil // nothing was ever linked
	}
	if err := a.d.TelegramLinks.Unlink(ctx, account(ctx).ID, telegram.UnlinkAPI); err != nil {
		return nil, a.fail(ctx, "telegram unlink", err)
	}
	return &Empty{}, nil
}
