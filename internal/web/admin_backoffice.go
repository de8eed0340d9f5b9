package web

// Back office and public site (issue 6), mounted on the same platform after
// New: the lead calls MountBackOffice from cmd/kabinet.

import (
	"io/fs"

	assets "github.com/kabinet-billing/kabinet/web"

	"github.com/kabinet-billing/kabinet/internal/backoffice"
	"github.com/kabinet-billing/kabinet/internal/support"
	"github.com/kabinet-billing/kabinet/internal/web/admin"
	"github.com/kabinet-billing/kabinet/internal/web/public"
)

// BackOffice is what /admin and /site/ need.
type BackOffice struct {
	Office  *backoffice.Office
	Support *support.Service // nil: made over Office.DB
	Network admin.Network    // nil: no network section; admin.RadiusNetwork{S: radiusService} when RADIUS runs
	// RedirectFrom are old portal addresses that now redirect to /login.
	RedirectFrom []string
	// Sandbox: the sandbox card processor runs; the back office says so.
	Sandbox bool
	Files   fs.FS // nil: the embedded web/ tree
}

// MountBackOffice registers the back office at /admin and the public site
// at /site/.
func (s *Server) MountBackOffice(b BackOffice) error {
	if b.Files == nil {
		b.Files = assets.FS
	}
	if b.Support == nil {
		b.Support = support.New(b.Office.DB, b.Office.Clock)
	}
	if _, err := admin.Register(s.Platform, admin.Deps{Office: b.Office, Support: b.Support, Network: b.Network, Sandbox: b.Sandbox, Files: b.Files, Statements: s.Statements}); err != nil {
		return err
	}
	_, err := public.Register(s.Platform, public.Deps{DB: b.Office.DB, Support: b.Support, Files: b.Files, RedirectFrom: b.RedirectFrom})
	return err
}
