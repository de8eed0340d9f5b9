package admin

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/netip"
	"strconv"

	"github.com/kabinet-billing/kabinet/internal/derrors"
	"github.com/kabinet-billing/kabinet/internal/operator"
	"github.com/kabinet-billing/kabinet/internal/radius"
	"github.com/kabinet-billing/kabinet/internal/traffic"
)

// Network is what the network pages need from RADIUS; RadiusNetwork adapts
// the running radius.Service, tests give a fake.
type Network interface {
	NASList(ctx context.Context) ([]radius.NAS, error)
	SaveNAS(ctx context.Context, n radius.NAS, by operator.Actor) (radius.NAS, error) // audited with the change
	OpenSessions(ctx context.Context) ([]traffic.Session, error)
	Disconnect(ctx context.Context, sessionID int64, reason string) error
	CoAFailures(ctx context.Context, limit int) ([]radius.CoALogEntry, error)
	// SetAllowUnsigned and NASSecret write their audit entry with the change
	// or the read.
	SetAllowUnsigned(ctx context.Context, id int64, allow bool, by operator.Actor) error
	NASSecret(ctx context.Context, id int64, by operator.Actor) (string, error)
}

// RadiusNetwork is the Network of a running RADIUS service.
type RadiusNetwork struct{ S *radius.Service }

func (n RadiusNetwork) NASList(ctx context.Context) ([]radius.NAS, error) { return n.S.NAS.List(ctx) }
func (n RadiusNetwork) SaveNAS(ctx context.Context, x radius.NAS, by operator.Actor) (radius.NAS, error) {
	return n.S.NAS.SaveBy(ctx, x, by)
}
func (n RadiusNetwork) SetAllowUnsigned(ctx context.Context, id int64, allow bool, by operator.Actor) error {
	return n.S.NAS.SetAllowUnsigned(ctx, id, allow, by)
}
func (n RadiusNetwork) NASSecret(ctx context.Context, id int64, by operator.Actor) (string, error) {
	return n.S.NAS.Secret(ctx, id, by)
}
func (n RadiusNetwork) OpenSessions(ctx context.Context) ([]traffic.Session, error) {
	return n.S.Traffic.OpenSessions(ctx, 0)
}
func (n RadiusNetwork) CoAFailures(ctx context.Context, limit int) ([]radius.CoALogEntry, error) {
	return n.S.CoALog(ctx, true, limit)
}

// Disconnect asks the NAS to end the session; a NAK or timeout is an error.
func (n RadiusNetwork) Disconnect(ctx context.Context, sessionID int64, reason string) error {
	r, err := n.S.DisconnectSession(ctx, sessionID, reason)
	if err != nil {
		return err
	}
	if !r.OK {
		if r.Err != nil {
			return fmt.Errorf("disconnect session %d: %w", sessionID, r.Err)
		}
		return fmt.Errorf("disconnect session %d: refused by the NAS", sessionID)
	}
	return nil
}

type networkData struct {
	NAS      []radius.NAS
	Sessions []traffic.Session
	Failures []radius.CoALogEntry
	Kinds    []radius.NASKind
	// Shown is the one secret an operator asked to see, by NAS ID.
	Shown map[int64]string
}

func (a *Admin) network(w http.ResponseWriter, r *http.Request) { a.networkPage(w, r, nil) }

// networkPage renders the network page; secrets never go into it except
// one asked for with showSecret.
func (a *Admin) networkPage(w http.ResponseWriter, r *http.Request, shown map[int64]string) {
	ctx := r.Context()
	d := networkData{Kinds: []radius.NASKind{radius.KindMikrotik, radius.KindCisco, radius.KindJuniper, radius.KindAccel, radius.KindGeneric}}
	var err error
	if d.NAS, err = a.d.Network.NASList(ctx); err == nil {
		if d.Sessions, err = a.d.Network.OpenSessions(ctx); err == nil {
			d.Failures, err = a.d.Network.CoAFailures(ctx, 100)
		}
	}
	if err != nil {
		a.p.Fail(w, r, err)
		return
	}
	for i := range d.NAS {
		d.NAS[i].Secret = ""
	}
	d.Shown = shown
	a.render(w, r, http.StatusOK, "network", "admin.network.title", "network", d)
}

// showSecret shows one NAS's shared secret to an operator who may manage
// the network, on the page itself (never in a redirect or the session),
// and audits the look.
func (a *Admin) showSecret(w http.ResponseWriter, r *http.Request) {
	id, ok := pathID(r, "id")
	if !ok {
		a.p.NotFound(w, r)
		return
	}
	secret, err := a.d.Network.NASSecret(r.Context(), id, a.who(r).Actor())
	if errors.Is(err, derrors.NotFound) {
		a.p.NotFound(w, r)
		return
	}
	if err != nil {
		a.p.Fail(w, r, err)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	a.networkPage(w, r, map[int64]string{id: secret})
}

// setSigning allows a NAS to send unsigned Access-Requests, or requires
// it to sign again.
func (a *Admin) setSigning(w http.ResponseWriter, r *http.Request) {
	id, ok := pathID(r, "id")
	if !ok {
		a.p.NotFound(w, r)
		return
	}
	err := a.d.Network.SetAllowUnsigned(r.Context(), id, r.PostFormValue("allow_unsigned") != "", a.who(r).Actor())
	if err != nil {
		a.failedOn(w, r, "/admin/network", err)
		return
	}
	a.done(w, r, "/admin/network", "admin.flash.saved")
}

func (a *Admin) disconnect(w http.ResponseWriter, r *http.Request) {
	id, ok := pathID(r, "id")
	if !ok {
		a.p.NotFound(w, r)
		return
	}
	op := opOf(r)
	err := a.d.Network.Disconnect(r.Context(), id, "operator "+op.Login)
	if aerr := a.d.Office.Disconnected(r.Context(), a.who(r), id, r.PostFormValue("note"), err); aerr != nil {
		a.p.Fail(w, r, aerr)
		return
	}
	if err != nil {
		a.p.Sessions.Put(r.Context(), sessionError, "admin.network.disconnect_failed")
		http.Redirect(w, r, "/admin/network", http.StatusSeeOther)
		return
	}
	a.done(w, r, "/admin/network", "admin.network.disconnected")
}

func (a *Admin) saveNAS(w http.ResponseWriter, r *http.Request) {
	f := r.PostFormValue
	addr, err := netip.ParseAddr(f("addr"))
	port, _ := strconv.Atoi(f("coa_port"))
	kind := radius.NASKind(f("kind"))
	if err != nil || !kind.Valid() || f("secret") == "" {
		a.failed(w, r, "/admin/network", derrors.Invalid)
		return
	}
	_, err = a.d.Network.SaveNAS(r.Context(), radius.NAS{Name: f("name"), Addr: addr, Secret: f("secret"), Kind: kind, CoAPort: port,
		AllowUnsigned: f("require_ma") == ""}, a.who(r).Actor())
	if err != nil {
		a.failed(w, r, "/admin/network", err)
		return
	}
	a.done(w, r, "/admin/network", "admin.flash.saved")
}
