package api

import (
	"context"
	"net/http"
	"time"

	"github.com/kabinet-billing/kabinet/internal/speedtest"
)

type SpeedTestOut struct {
	ID             int64     `json:"id"`
	At             time.Time `json:"at"`
	DownKbps       int64     `json:"down_kbps"`
	UpKbps         int64     `json:"up_kbps"`
	PingMs         float64   `json:"ping_ms"`
	JitterMs       float64   `json:"jitter_ms"`
	TariffDownKbps int64     `json:"tariff_down_kbps" doc:"The line's speed when the test ran"`
	TariffUpKbps   int64     `json:"tariff_up_kbps"`
	Limited        bool      `json:"limited"`
	DownPercent    int       `json:"down_percent" doc:"Measured download as a percent of the line's speed"`
	Verdict        string    `json:"verdict" enum:"good,slow,limited,unknown"`
}

func speedOut(r speedtest.Result) SpeedTestOut {
	return SpeedTestOut{ID: r.ID, At: r.At, DownKbps: r.DownKbps, UpKbps: r.UpKbps,
		PingMs: float64(r.Ping.Microseconds()) / 1000, JitterMs: float64(r.Jitter.Microseconds()) / 1000,
		TariffDownKbps: r.TariffDownKbps, TariffUpKbps: r.TariffUpKbps, Limited: r.Limited, DownPercent: r.DownPercent(), Verdict: string(r.Verdict())}
}

func (a *API) speedtests(ctx context.Context, _ *Empty) (*ListOut[SpeedTestOut], error) {
	if a.d.SpeedTests == nil {
		return list([]SpeedTestOut{}), nil
	}
	rs, err := a.d.SpeedTests.History(ctx, account(ctx).ID, 100)
	if err != nil {
		return nil, a.fail(ctx, "speed tests", err)
	}
	out := make([]SpeedTestOut, len(rs))
	for i, r := range rs {
		out[i] = speedOut(r)
	}
	return list(out), nil
}

type SpeedTestIn struct {
	Body struct {
		DownMbps float64 `json:"dl" minimum:"0" doc:"Download, Mbit/s (LibreSpeed's dl)"`
		UpMbps   float64 `json:"ul" minimum:"0" doc:"Upload, Mbit/s"`
		PingMs   float64 `json:"ping" minimum:"0"`
		JitterMs float64 `json:"jitter" minimum:"0"`
	}
}

type SpeedTestOne struct{ Body SpeedTestOut }

func (a *API) saveSpeedtest(ctx context.Context, in *SpeedTestIn) (*SpeedTestOne, error) {
	if a.d.SpeedTests == nil {
		return nil, a.problem(ctx, http.StatusServiceUnavailable, "api.error.unavailable")
	}
	var ip string
	if r, ok := ctx.Value(keyRequest).(*http.Request); ok {
		ip = r.RemoteAddr
	}
	r, err := a.d.SpeedTests.Save(ctx, account(ctx).ID, speedtest.Measured{DownMbps: in.Body.DownMbps, UpMbps: in.Body.UpMbps,
		PingMs: in.Body.PingMs, JitterMs: in.Body.JitterMs, IP: ip, UserAgent: "api"})
	if err != nil {
		return nil, a.refused(ctx, "save speed test", err)
	}
	return &SpeedTestOne{Body: speedOut(r)}, nil
}

// --- support, news ---
