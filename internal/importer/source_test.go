package importer

import (
	"context"
	"testing"
	"time"
)

func openUbilling(t testing.TB, dsn string) *Ubilling {
	t.Helper()
	src, err := OpenUbilling(context.Background(), dsn, moscow)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { src.Close() })
	return src
}

var moscow = func() *time.Location {
	z, err := time.LoadLocation("Europe/Moscow")
	if err != nil {
		panic(err)
	}
	return z
}()
