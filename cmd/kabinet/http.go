package main

import (
	"fmt"
	"net/http"
)

// handler is every HTTP route: the payment protocols, health, and the pages.
func (a *app) handler() (http.Handler, error) {
	mux := http.NewServeMux()
	routes, err := a.pay.Routes(a.paySetup.OSMP)
	if err != nil {
		return nil, err
	}
	for pattern, h := range routes {
		mux.Handle(pattern, h)
	}
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		if err := a.e.db.Reader().PingContext(r.Context()); err != nil {
			http.Error(w, "database unavailable", http.StatusServiceUnavailable)
			return
		}
		fmt.Fprintln(w, "ok")
	})
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprintf(w, "<!doctype html><meta charset=utf-8><title>Kabinet</title><h1>%s</h1><p>Личный кабинет абонента</p>", a.e.cfg.Provider.Name)
	})
	return mux, nil
}
