package api

import (
	"context"
	"time"

	"github.com/kabinet-billing/kabinet/internal/netflow"
	"github.com/kabinet-billing/kabinet/internal/statement"
)

type DayOut struct {
	Day      string `json:"day"`
	Upload   int64  `json:"upload_bytes"`
	Download int64  `json:"download_bytes"`
}

func (a *API) traffic(ctx context.Context, in *Period) (*ListOut[DayOut], error) {
	p, err := a.period(ctx, *in, statement.MaxTrafficDays)
	if err != nil {
		return nil, err
	}
	if a.d.Traffic == nil {
		return list([]DayOut{}), nil
	}
	us, err := a.d.Traffic.Usage(ctx, account(ctx).ID, p.FromISO(), p.ToISO())
	if err != nil {
		return nil, a.fail(ctx, "traffic", err)
	}
	out := make([]DayOut, len(us))
	for i, u := range us {
		out[i] = DayOut{Day: u.Day, Upload: u.InputOctets, Download: u.OutputOctets}
	}
	return list(out), nil
}

type ClassOut struct {
	Code string `json:"code"`
	Name string `json:"name"`
}

type ClassDayOut struct {
	Day      string `json:"day"`
	Class    string `json:"class"`
	Upload   int64  `json:"upload_bytes"`
	Download int64  `json:"download_bytes"`
}

type ClassesOut struct {
	Body struct {
		Classes []ClassOut    `json:"classes" doc:"In the order charts show them"`
		Days    []ClassDayOut `json:"days"`
	}
}

func (a *API) trafficClasses(ctx context.Context, in *Period) (*ClassesOut, error) {
	p, err := a.period(ctx, *in, statement.MaxTrafficDays)
	if err != nil {
		return nil, err
	}
	cs, err := netflow.Classes(ctx, a.d.DB)
	if err != nil {
		return nil, a.fail(ctx, "classes", err)
	}
	us, err := netflow.Usage(ctx, a.d.DB, account(ctx).ID, p.FromISO(), p.ToISO())
	if err != nil {
		return nil, a.fail(ctx, "classes", err)
	}
	o := &ClassesOut{}
	o.Body.Classes, o.Body.Days = []ClassOut{}, []ClassDayOut{}
	for _, c := range cs {
		o.Body.Classes = append(o.Body.Classes, ClassOut{Code: c.Code, Name: pick(lang(ctx), c.Name, c.NameEn)})
	}
	for _, u := range us {
		o.Body.Days = append(o.Body.Days, ClassDayOut{Day: u.Day, Class: u.Class, Upload: u.InputOctets, Download: u.OutputOctets})
	}
	return o, nil
}

type SessionOut struct {
	ID        int64      `json:"id"`
	StartedAt time.Time  `json:"started_at"`
	StoppedAt *time.Time `json:"stopped_at,omitempty" doc:"Absent while the session is open"`
	IP        string     `json:"ip,omitempty"`
	MAC       string     `json:"mac,omitempty"`
	Upload    int64      `json:"upload_bytes"`
	Download  int64      `json:"download_bytes"`
	Seconds   int64      `json:"seconds"`
}

func (a *API) sessions(ctx context.Context, in *Period) (*ListOut[SessionOut], error) {
	p, err := a.period(ctx, *in, statement.MaxTrafficDays)
	if err != nil {
		return nil, err
	}
	if a.d.Traffic == nil {
		return list([]SessionOut{}), nil
	}
	ss, err := a.d.Traffic.Sessions(ctx, account(ctx).ID, p.From, p.End(), 200)
	if err != nil {
		return nil, a.fail(ctx, "sessions", err)
	}
	out := make([]SessionOut, len(ss))
	for i, s := range ss {
		out[i] = SessionOut{ID: s.ID, StartedAt: s.StartedAt, MAC: s.CallingStationID, Upload: s.InputOctets, Download: s.OutputOctets,
			Seconds: int64(s.SessionTime / time.Second)}
		if s.FramedIP.IsValid() {
			out[i].IP = s.FramedIP.String()
		}
		if !s.Open() {
			out[i].StoppedAt = &ss[i].StoppedAt
		}
	}
	return list(out), nil
}
