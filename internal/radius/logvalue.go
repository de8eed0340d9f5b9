package radius

import "log/slog"

// LogValue keeps the cleartext password out of the log should a Subscriber
// ever be logged whole.
func (s Subscriber) LogValue() slog.Value {
	return slog.GroupValue(slog.Int64("account", s.AccountID), slog.String("login", s.Login),
		slog.String("status", string(s.Status)), slog.Bool("limited", s.Limited))
}

// LogValue keeps the shared secret out of the log should a NAS ever be
// logged whole.
func (n NAS) LogValue() slog.Value {
	return slog.GroupValue(slog.Int64("id", n.ID), slog.String("name", n.Name),
		slog.String("addr", n.Addr.String()), slog.String("kind", string(n.Kind)))
}
