package admin

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/kabinet-billing/kabinet/internal/derrors"
	"github.com/kabinet-billing/kabinet/internal/netflow"
)

// Traffic classes ("where" traffic goes: the provider's own network, the
// city exchange, the internet) by address prefixes, for the NetFlow
// collector and the subscriber's traffic-by-class page.

type trafficClassesData struct {
	Classes []trafficClassRow
	Default string // the class without prefixes
}

type trafficClassRow struct {
	netflow.Class
	PrefixText string // one per line, for the textarea
}

func (a *Admin) trafficClasses(w http.ResponseWriter, r *http.Request) {
	cs, err := a.d.Office.TrafficClasses(r.Context(), a.who(r))
	if err != nil {
		a.failed(w, r, "/admin/", err)
		return
	}
	d := trafficClassesData{Default: netflow.DefaultClass}
	for _, c := range cs {
		ps := make([]string, len(c.Prefixes))
		for i, p := range c.Prefixes {
			ps[i] = p.String()
		}
		d.Classes = append(d.Classes, trafficClassRow{Class: c, PrefixText: strings.Join(ps, "\n")})
	}
	a.render(w, r, http.StatusOK, "traffic_classes", "admin.traffic.title", "traffic", d)
}

// classForm reads the form; a prefix that does not parse is the operator's
// error, named in the message.
func classForm(r *http.Request, code string) (netflow.Class, error) {
	f := r.PostFormValue
	pos, err := strconv.Atoi(strings.TrimSpace(f("position")))
	if err != nil && strings.TrimSpace(f("position")) != "" {
		return netflow.Class{}, netflow.ErrClass
	}
	ps, err := netflow.ParsePrefixes(f("prefixes"))
	if err != nil {
		return netflow.Class{}, errBadPrefix
	}
	return netflow.Class{Code: code, Name: f("name"), NameEn: f("name_en"), Prefixes: ps, Position: pos}, nil
}

var errBadPrefix = derrors.Invalidf("prefixes", "traffic_prefix", "bad prefix")

func (a *Admin) addTrafficClass(w http.ResponseWriter, r *http.Request) {
	c, err := classForm(r, r.PostFormValue("code"))
	if err == nil {
		err = a.d.Office.SaveTrafficClass(r.Context(), a.who(r), c, true)
	}
	if err != nil {
		a.failed(w, r, "/admin/traffic-classes", err)
		return
	}
	a.done(w, r, "/admin/traffic-classes", "admin.flash.saved")
}

func (a *Admin) updateTrafficClass(w http.ResponseWriter, r *http.Request) {
	code, err := url.PathUnescape(r.PathValue("code"))
	if err != nil {
		a.p.NotFound(w, r)
		return
	}
	c, err := classForm(r, code)
	if err == nil {
		err = a.d.Office.SaveTrafficClass(r.Context(), a.who(r), c, false)
	}
	if err != nil {
		a.failedOn(w, r, "/admin/traffic-classes", err)
		return
	}
	a.done(w, r, "/admin/traffic-classes", "admin.flash.saved")
}
