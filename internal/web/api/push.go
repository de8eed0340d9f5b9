package api

import (
	"context"
	"net/http"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"github.com/kabinet-billing/kabinet/internal/push"
)

// Web Push for an app built on a WebView or a browser engine: it subscribes
// with the Push API under the server's VAPID key and registers the
// subscription here; the same notices as e-mail then reach the device
// (docs/native-app.md).

// PushDevice is a device that gets pushes.
type PushDevice struct {
	ID         int64      `json:"id"`
	Device     string     `json:"device"`
	Endpoint   string     `json:"endpoint"`
	CreatedAt  time.Time  `json:"created_at"`
	LastSentAt *time.Time `json:"last_sent_at,omitempty" doc:"The last push the push service accepted"`
}

type PushOut struct {
	Body struct {
		VAPIDKey string       `json:"vapid_public_key" doc:"The Push API's applicationServerKey: base64url, an uncompressed P-256 point"`
		Devices  []PushDevice `json:"devices"`
	}
}

type PushSubscriptionIn struct {
	Body struct {
		Endpoint string `json:"endpoint" maxLength:"2048" doc:"PushSubscription.endpoint (https)"`
		Keys     struct {
			P256dh string `json:"p256dh" maxLength:"200" doc:"base64url, from PushSubscription.toJSON()"`
			Auth   string `json:"auth" maxLength:"100" doc:"base64url, 16 bytes"`
		} `json:"keys"`
		Device string `json:"device,omitempty" maxLength:"100" doc:"Shown in the profile's list of devices"`
	}
}

type PushDeviceOut struct{ Body PushDevice }

func registerPush(a *API) {
	reg(a, true, huma.Operation{OperationID: "push", Method: http.MethodGet, Path: "/push", Tags: []string{"Profile"},
		Summary: "The VAPID key to subscribe with, and the devices that get push notifications", Errors: []int{503}}, a.pushDevices)
	reg(a, true, huma.Operation{OperationID: "push-subscribe", Method: http.MethodPost, Path: "/push/subscriptions", Tags: []string{"Profile"},
		Summary:       "Register a Web Push subscription of this device",
		Description:   "The same endpoint registered again replaces its keys (and its account). Payments received, the low-balance reminder, the debt limit and answers to requests are pushed to it, encrypted as RFC 8291 says; a subscription the push service reports gone (404, 410) is removed.",
		DefaultStatus: 201, Errors: []int{422, 503}}, a.pushSubscribe)
	reg(a, true, huma.Operation{OperationID: "push-unsubscribe", Method: http.MethodDelete, Path: "/push/subscriptions/{id}", Tags: []string{"Profile"},
		Summary: "Stop pushes to a device", DefaultStatus: 204, Errors: []int{404, 503}}, a.pushUnsubscribe)
}

func pushDevice(s push.Subscription) PushDevice {
	d := PushDevice{ID: s.ID, Device: s.Device, Endpoint: s.Endpoint, CreatedAt: s.CreatedAt}
	if !s.LastSentAt.IsZero() {
		d.LastSentAt = &s.LastSentAt
	}
	return d
}

func (a *API) pushDevices(ctx context.Context, _ *Empty) (*PushOut, error) {
	if a.d.Push == nil {
		return nil, a.problem(ctx, http.StatusServiceUnavailable, "api.error.push_off")
	}
	subs, err := a.d.Push.List(ctx, account(ctx).ID)
	if err != nil {
		return nil, a.fail(ctx, "push devices", err)
	}
	out := &PushOut{}
	out.Body.VAPIDKey = a.d.Push.PublicKey()
	out.Body.Devices = []PushDevice{}
	for _, s := range subs {
		out.Body.Devices = append(out.Body.Devices, pushDevice(s))
	}
	return out, nil
}

func (a *API) pushSubscribe(ctx context.Context, in *PushSubscriptionIn) (*PushDeviceOut, error) {
	if a.d.Push == nil {
		return nil, a.problem(ctx, http.StatusServiceUnavailable, "api.error.push_off")
	}
	s, err := a.d.Push.Subscribe(ctx, account(ctx).ID, push.Subscription{Endpoint: in.Body.Endpoint, P256dh: in.Body.Keys.P256dh,
		Auth: in.Body.Keys.Auth, Device: in.Body.Device})
	if err != nil {
		return nil, a.refused(ctx, "push subscribe", err)
	}
	return &PushDeviceOut{Body: pushDevice(s)}, nil
}

func (a *API) pushUnsubscribe(ctx context.Context, in *IDPath) (*Empty, error) {
	if a.d.Push == nil {
		return nil, a.problem(ctx, http.StatusServiceUnavailable, "api.error.push_off")
	}
	if err := a.d.Push.Remove(ctx, account(ctx).ID, in.ID); err != nil {
		return nil, a.refused(ctx, "push unsubscribe", err)
	}
	return nil, nil
}
