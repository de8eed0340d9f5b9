package admin

import (
	"context"
	"fmt"
	"net/http"
	"net/netip"
	"strconv"

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
}

// RadiusNetwork is the Network of a running RADIUS service.
type RadiusNetwork struct{ S *radius.Service }

func (n RadiusNetwork) NASList(ctx context.Context) ([]radius.NAS, error) { return n.S.NAS.List(ctx) }
func (n RadiusNetwork) SaveNAS(ctx context.Context, x radius.NAS, by operator.Actor) (radius.NAS, error) {
	return n.S.NAS.SaveBy(ctx, x, by)
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
}

func (a *Admin) network(w http.ResponseWriter, r *http.Request) {
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
	a.render(w, r, http.StatusOK, "network", "admin.network.title", "network", d)
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
		a.failed(w, r, "/admin/network", radius.ErrInvalidNAS)
		return
	}
	_, err = a.d.Network.SaveNAS(r.Context(), radius.NAS{Name: f("name"), Addr: addr, Secret: f("secret"), Kind: kind, CoAPort: port,
		RequireMessageAuthenticator: f("require_ma") != ""}, a.who(r).Actor())
	if err != nil {
		a.failed(w, r, "/admin/network", err)
		return
	}
	a.done(w, r, "/admin/network", "admin.flash.saved")
}
