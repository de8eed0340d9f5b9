package api

import (
	"context"
	"time"

	"github.com/kabinet-billing/kabinet/internal/support"
)

type MessageOut struct {
	ID           int64     `json:"id"`
	FromOperator bool      `json:"from_operator"`
	Operator     string    `json:"operator,omitempty"`
	Body         string    `json:"body"`
	CreatedAt    time.Time `json:"created_at"`
}

type RequestOut struct {
	ID        int64        `json:"id"`
	Kind      string       `json:"kind" enum:"question,fault,connect,disconnect,other"`
	Subject   string       `json:"subject"`
	Status    string       `json:"status" enum:"new,in_progress,answered,closed"`
	CreatedAt time.Time    `json:"created_at"`
	UpdatedAt time.Time    `json:"updated_at"`
	Messages  []MessageOut `json:"messages,omitempty"`
}

func msgs(ms []support.Message) []MessageOut {
	out := make([]MessageOut, len(ms))
	for i, x := range ms {
		out[i] = MessageOut{ID: x.ID, FromOperator: x.FromOperator(), Operator: x.Operator, Body: x.Body, CreatedAt: x.CreatedAt}
	}
	return out
}

func reqOut(r support.Request) RequestOut {
	return RequestOut{ID: r.ID, Kind: r.Kind, Subject: r.Subject, Status: r.Status, CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt, Messages: msgs(r.Messages)}
}

func (a *API) requests(ctx context.Context, _ *Empty) (*ListOut[RequestOut], error) {
	rs, err := a.d.Support.Requests(ctx, account(ctx).ID)
	if err != nil {
		return nil, a.fail(ctx, "requests", err)
	}
	out := make([]RequestOut, len(rs))
	for i, r := range rs {
		out[i] = reqOut(r)
	}
	return list(out), nil
}

type NewRequestIn struct {
	Body struct {
		Kind    string `json:"kind" enum:"question,fault,connect,disconnect,other"`
		Subject string `json:"subject" minLength:"1" maxLength:"200"`
		Body    string `json:"body" minLength:"1" maxLength:"4000"`
	}
}

type RequestOne struct{ Body RequestOut }

func (a *API) fileRequest(ctx context.Context, in *NewRequestIn) (*RequestOne, error) {
	r, err := a.d.Support.File(ctx, account(ctx).ID, in.Body.Kind, in.Body.Subject, in.Body.Body)
	if err != nil {
		return nil, a.refused(ctx, "file request", err)
	}
	return &RequestOne{Body: reqOut(r)}, nil
}

func (a *API) request(ctx context.Context, in *IDPath) (*RequestOne, error) {
	r, err := a.d.Support.RequestOf(ctx, account(ctx).ID, in.ID)
	if err != nil {
		return nil, a.refused(ctx, "request", err)
	}
	return &RequestOne{Body: reqOut(r)}, nil
}

type ReplyIn struct {
	IDPath
	Body struct {
		Body string `json:"body" minLength:"1" maxLength:"4000"`
	}
}

func (a *API) reply(ctx context.Context, in *ReplyIn) (*Empty, error) {
	if err := a.d.Support.Reply(ctx, account(ctx).ID, in.ID, in.Body.Body); err != nil {
		return nil, a.refused(ctx, "reply", err)
	}
	return nil, nil
}

type ChatIn struct {
	After int64 `query:"after" minimum:"0" doc:"Only messages with a larger id (polling)"`
}

func (a *API) chat(ctx context.Context, in *ChatIn) (*ListOut[MessageOut], error) {
	ms, err := a.d.Support.Chat(ctx, account(ctx).ID, in.After)
	if err != nil {
		return nil, a.fail(ctx, "chat", err)
	}
	return list(msgs(ms)), nil
}

type SayIn struct {
	Body struct {
		Body string `json:"body" minLength:"1" maxLength:"4000"`
	}
}

type MessageOne struct{ Body MessageOut }

func (a *API) say(ctx context.Context, in *SayIn) (*MessageOne, error) {
	msg, err := a.d.Support.Say(ctx, account(ctx).ID, in.Body.Body)
	if err != nil {
		return nil, a.refused(ctx, "say", err)
	}
	return &MessageOne{Body: msgs([]support.Message{msg})[0]}, nil
}
