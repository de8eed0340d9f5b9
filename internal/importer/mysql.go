package importer

import (
	"context"
	"database/sql"
	"fmt"
	"net"
	"net/url"
	"strings"
	"time"

	"github.com/go-sql-driver/mysql"
)

// mysqlSource is a MySQL or MariaDB database of another billing, read
// through one connection pool with streaming queries.
type mysqlSource struct {
	db *sql.DB
}

// openMySQL connects to dsn, "mysql://USER:PASS@HOST:PORT/DB", and checks
// that the database has the tables named: the schema of the system the
// operator said it is. Times without a zone are read in zone.
func openMySQL(ctx context.Context, dsn, system string, zone *time.Location, tables []string) (*mysqlSource, error) {
	u, err := url.Parse(dsn)
	if err != nil || u.Scheme != "mysql" || u.Host == "" || strings.Trim(u.Path, "/") == "" || strings.Contains(strings.Trim(u.Path, "/"), "/") {
		return nil, fmt.Errorf("%w: --from must be mysql://USER:PASS@HOST:PORT/DB", ErrSource)
	}
	c := mysql.NewConfig()
	c.Net = "tcp"
	c.Addr = u.Host
	if u.Port() == "" {
		c.Addr = net.JoinHostPort(u.Hostname(), "3306")
	}
	c.User = u.User.Username()
	c.Passwd, _ = u.User.Password()
	c.DBName = strings.Trim(u.Path, "/")
	c.ParseTime = true
	c.Loc = zone
	c.Timeout = 10 * time.Second
	c.Apply(mysql.Charset("utf8mb4", ""))
	// TIMESTAMP columns (ABillS's) come back in the session's zone: the
	// provider's, by its offset now (Russia has kept its offsets since 2014;
	// the server may have no zone tables to name it). DATETIME columns
	// (Ubilling's) are wall-clock times and read in zone anyway.
	_, off := time.Now().In(zone).Zone()
	sign := "+"
	if off < 0 {
		sign, off = "-", -off
	}
	c.Params = map[string]string{"time_zone": fmt.Sprintf("'%s%02d:%02d'", sign, off/3600, off%3600/60),
		// A streamed result waits in the server while Kabinet writes what it
		// has read; the server drops a client that has not read for
		// net_write_timeout (60 s by default), which a busy target can take.
		"net_write_timeout": "3600"}
	conn, err := mysql.NewConnector(c)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrSource, err)
	}
	db := sql.OpenDB(conn)
	db.SetMaxOpenConns(2)
	pctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	if err := db.PingContext(pctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("%w: cannot reach %s at %s: %v", ErrSource, c.DBName, c.Addr, err)
	}
	marks := strings.TrimSuffix(strings.Repeat("?, ", len(tables)), ", ")
	args := []any{}
	for _, t := range tables {
		args = append(args, t)
	}
	var n int
	if err := db.QueryRowContext(ctx, `SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = DATABASE() AND table_name IN (`+marks+`)`, args...).Scan(&n); err != nil {
		db.Close()
		return nil, fmt.Errorf("%w: %s: %v", ErrSource, c.DBName, err)
	}
	if n != len(tables) {
		db.Close()
		return nil, fmt.Errorf("%w: database %s is not %s's (it lacks some of the tables %s)", ErrSource, c.DBName, system, strings.Join(tables, ", "))
	}
	return &mysqlSource{db: db}, nil
}

// Close closes the connections.
func (m *mysqlSource) Close() error { return m.db.Close() }

// stream runs q and hands each row to fn as it arrives from the server.
func (m *mysqlSource) stream(ctx context.Context, q string, fn func(scan func(...any) error) error, args ...any) error {
	rows, err := m.db.QueryContext(ctx, q, args...)
	if err != nil {
		return fmt.Errorf("%w: %v", ErrSource, err)
	}
	defer rows.Close()
	for rows.Next() {
		if err := fn(rows.Scan); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("%w: %v", ErrSource, err)
	}
	return nil
}

// text is a nullable column read as text.
type text struct{ sql.NullString }

func (t text) s() string { return strings.TrimSpace(t.String) }
