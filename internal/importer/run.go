package importer

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"net/mail"
	"net/netip"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/kabinet-billing/kabinet/internal/billing"
	"github.com/kabinet-billing/kabinet/internal/ledger"
	"github.com/kabinet-billing/kabinet/internal/money"
	"github.com/kabinet-billing/kabinet/internal/store"
)

// TxnOpening is the kind of the ledger transaction that brings an
// account's balance from the old billing, at the cut-over.
const TxnOpening = "opening"

// unlimitedKbps is the speed of a tariff the source does not shape.
const unlimitedKbps = 1000000

// batch is how many payments are written together.
const batch = 512

// subBatch is how many subscribers are written together: their opening
// balances post as one ledger batch, which moves the import's equity
// account once (on PostgreSQL each move leaves a row version the rest of
// the import's transaction steps over).
const subBatch = 2048

// subChunk is how many accounts (16 parameters each) one INSERT writes:
// on PostgreSQL every statement is a round trip.
const subChunk = 128

// payChunk is how many history rows one INSERT writes (6 parameters each,
// far under either engine's limit): the history is most of an import's
// rows, and on SQLite each statement is parsed anew inside the one long
// transaction.
const payChunk = 256

type tariffRef struct {
	id   int64
	code string
}

type subRef struct {
	id       int64
	ledgerID int64 // 0 until needed, for subscribers of an earlier run
	fresh    bool  // created by this run: its payments are history
}

type prior struct {
	target int64
	fields string
}

type pendingSub struct {
	key, row string
	f        subFields
	password string
	cityID   int64
	tariff   tariffRef
	balance  money.Amount
	note     string
	sealed   string
}

type pendingPay struct {
	p      Payment
	row    string
	amount money.Amount
	sub    *subRef
}

type run struct {
	ctx context.Context
	tx  *store.Tx
	src Source
	o   Options
	rep *Report

	period    billing.Period
	prior     map[string]prior
	tariffs   map[string]tariffRef
	badTariff map[string]bool
	kabinet   map[string]tariffRef // Kabinet's tariffs by code and lower-case name
	codes     map[string]bool      // tariff and city codes taken
	logins    map[string]bool
	contracts map[string]bool
	ips       map[string]bool
	cities    map[string]int64
	subs      map[string]*subRef
	skipped   map[string]bool
	equity    int64
	revenue   int64
	staticPkg int64

	pendingSubs []pendingSub
	pendingPays []pendingPay
}

// subFields are a subscriber's fields as imported: kept in import_rows to
// tell on a later run what changed in the source since.
type subFields struct {
	Login    string `json:"login"`
	Contract string `json:"contract"`
	Name     string `json:"name"`
	Phone    string `json:"phone"`
	Email    string `json:"email"`
	City     string `json:"city"`
	Address  string `json:"address"`
	Tariff   string `json:"tariff"`
	Balance  string `json:"balance"`
	Credit   string `json:"credit"`
	IP       string `json:"ip"`
	Status   string `json:"status"`
	// Kept for the operators only (see Origin).
	CreditUntil string `json:"credit_until,omitempty"`
	Phone2      string `json:"phone2,omitempty"`
}

type tariffFields struct {
	Name     string `json:"name"`
	Fee      string `json:"fee"`
	Daily    bool   `json:"daily"`
	DownKbps int64  `json:"down_kbps"`
	UpKbps   int64  `json:"up_kbps"`
}

func (r *run) key(kind, k string) string { return r.src.System() + ":" + kind + ":" + k }

func (r *run) run() error {
	r.period = billing.PeriodOf(r.o.At, r.o.Biller.Rules.Zone)
	if err := r.load(); err != nil {
		return err
	}
	var n int64
	if err := r.src.Tariffs(r.ctx, func(t Tariff) error {
		n++
		r.progress("tariffs", n)
		return r.tariff(t)
	}); err != nil {
		return err
	}
	n = 0
	if err := prefetch(r.ctx, r.src.Subscribers, func(s Subscriber) error {
		n++
		if n%1000 == 0 {
			r.progress("subscribers", n)
		}
		return r.subscriber(s)
	}); err != nil {
		return err
	}
	if err := r.flushSubs(); err != nil {
		return err
	}
	r.progress("subscribers", n)
	n = 0
	if err := prefetch(r.ctx, r.src.Payments, func(p Payment) error {
		n++
		if n%10000 == 0 {
			r.progress("payments", n)
		}
		return r.payment(p)
	}); err != nil {
		return err
	}
	r.progress("payments", n)
	return r.flushPays()
}

func (r *run) progress(kind string, n int64) {
	if r.o.Progress != nil {
		r.o.Progress(kind, n)
	}
}

// load reads what the target already holds: earlier imports of this
// system, the logins, contract numbers, addresses and codes taken.
func (r *run) load() error {
	r.prior, r.tariffs, r.badTariff = map[string]prior{}, map[string]tariffRef{}, map[string]bool{}
	r.codes, r.logins, r.contracts, r.ips, r.cities = map[string]bool{}, map[string]bool{}, map[string]bool{}, map[string]bool{}, map[string]int64{}
	r.subs, r.skipped = map[string]*subRef{}, map[string]bool{}
	if err := r.each(`SELECT key, target_id, fields FROM import_rows WHERE key LIKE ?`, []any{r.src.System() + ":%"}, func(sc func(...any) error) error {
		var k string
		var p prior
		if err := sc(&k, &p.target, &p.fields); err != nil {
			return err
		}
		r.prior[k] = p
		return nil
	}); err != nil {
		return err
	}
	if err := r.each(`SELECT login, contract_no FROM accounts`, nil, func(sc func(...any) error) error {
		var l, c string
		if err := sc(&l, &c); err != nil {
			return err
		}
		r.logins[l], r.contracts[c] = true, true
		return nil
	}); err != nil {
		return err
	}
	if err := r.each(`SELECT static_ip FROM subscriptions WHERE static_ip <> '' AND ended_at IS NULL`, nil, func(sc func(...any) error) error {
		var ip string
		if err := sc(&ip); err != nil {
			return err
		}
		r.ips[ip] = true
		return nil
	}); err != nil {
		return err
	}
	r.kabinet = map[string]tariffRef{}
	if err := r.each(`SELECT id, code, name, archived FROM tariffs`, nil, func(sc func(...any) error) error {
		var t tariffRef
		var name string
		var archived bool
		if err := sc(&t.id, &t.code, &name, &archived); err != nil {
			return err
		}
		r.codes["tariff:"+t.code] = true
		if archived {
			return nil
		}
		r.kabinet[strings.ToLower(t.code)] = t
		if _, taken := r.kabinet[strings.ToLower(name)]; !taken {
			r.kabinet[strings.ToLower(name)] = t
		}
		return nil
	}); err != nil {
		return err
	}
	if err := r.each(`SELECT id, code, name FROM cities`, nil, func(sc func(...any) error) error {
		var id int64
		var c, n string
		if err := sc(&id, &c, &n); err != nil {
			return err
		}
		r.codes["city:"+c] = true
		r.cities[strings.ToLower(n)] = id
		return nil
	}); err != nil {
		return err
	}
	var err error
	if r.equity, err = ledger.Account(r.ctx, r.tx, "import:opening", ledger.KindAdjustment); err != nil {
		return err
	}
	r.revenue, err = ledger.Account(r.ctx, r.tx, ledger.RevenueCode("tariff"), ledger.KindRevenue)
	return err
}

func (r *run) each(q string, args []any, fn func(scan func(...any) error) error) error {
	rows, err := r.tx.Query(r.ctx, q, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		if err := fn(rows.Scan); err != nil {
			return err
		}
	}
	return rows.Err()
}

// amount reads a source's decimal text ("100", "-35.5", "1e-05") exactly:
// more than two decimals is a problem, never a rounding.
func amount(s string) (money.Amount, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, nil
	}
	if strings.ContainsAny(s, "eE") {
		f, err := strconv.ParseFloat(s, 64)
		if err != nil {
			return 0, fmt.Errorf("%q is not a number", s)
		}
		s = strconv.FormatFloat(f, 'f', -1, 64)
	}
	if i := strings.IndexAny(s, ".,"); i >= 0 {
		s = strings.TrimRight(s, "0")
		s = strings.TrimSuffix(strings.TrimSuffix(s, "."), ",")
		if len(s)-i-1 > 2 {
			return 0, fmt.Errorf("%q has more than two decimals", s)
		}
	}
	a, err := money.Parse(s)
	if err != nil {
		return 0, fmt.Errorf("%q is not an amount of money", s)
	}
	return a, nil
}

func (r *run) tariff(t Tariff) error {
	r.rep.Tariffs.Read++
	row := "tariff " + t.Key
	fee, err := amount(t.Fee)
	bad := false
	switch {
	case err != nil:
		r.rep.problem(row, "fee %v", err)
		bad = true
	case fee < 0:
		r.rep.problem(row, "fee %s is negative", fee.Decimal())
		bad = true
	}
	if t.DownKbps <= 0 || t.UpKbps <= 0 {
		// No shaper in the old billing: Kabinet's tariffs need a speed, and
		// 1 Gbit/s limits nothing a subscriber's line carries.
		t.DownKbps, t.UpKbps = max(t.DownKbps, 0), max(t.UpKbps, 0)
		if t.DownKbps == 0 {
			t.DownKbps = unlimitedKbps
		}
		if t.UpKbps == 0 {
			t.UpKbps = unlimitedKbps
		}
		r.rep.note(row, "no speed in the source: imported as %s", billing.FormatSpeed(unlimitedKbps))
	}
	if strings.TrimSpace(t.Name) == "" {
		t.Name = t.Key
	}
	f := tariffFields{Name: t.Name, Fee: fee.Decimal(), Daily: t.Daily, DownKbps: t.DownKbps, UpKbps: t.UpKbps}
	k := r.key("tariff", t.Key)
	if p, ok := r.prior[k]; ok {
		var code string
		if err := r.tx.QueryRow(r.ctx, `SELECT code FROM tariffs WHERE id = ?`, p.target).Scan(&code); err != nil {
			return fmt.Errorf("tariff %s imported before: %w", t.Key, err)
		}
		r.tariffs[t.Key] = tariffRef{id: p.target, code: code}
		r.compare(&r.rep.Tariffs, row, p.fields, f)
		return nil
	}
	if bad {
		r.rep.Tariffs.Skipped++
		r.badTariff[t.Key] = true
		return nil
	}
	monthly, desc := fee, ""
	if t.Daily {
		// Kabinet charges by the month: a daily fee becomes 30 days of it.
		monthly = fee * 30
		desc = fmt.Sprintf("%s: %s a day", r.src.System(), fee.Decimal())
	}
	code := r.code("tariff", t.Name)
	var id int64
	if err := r.tx.QueryRow(r.ctx, `INSERT INTO tariffs (code, name, description, fee, down_kbps, up_kbps, public, archived, prorate, created_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
		code, t.Name, desc, int64(monthly), t.DownKbps, t.UpKbps, false, false, false, r.o.At.UTC()).Scan(&id); err != nil {
		return fmt.Errorf("tariff %s: %w", t.Key, err)
	}
	if err := r.record(k, id, f, ""); err != nil {
		return err
	}
	r.tariffs[t.Key] = tariffRef{id: id, code: code}
	r.rep.Tariffs.New++
	return nil
}

// record notes what a source row became.
func (r *run) record(key string, target int64, fields any, note string) error {
	b, _ := json.Marshal(fields)
	_, err := r.tx.Exec(r.ctx, `INSERT INTO import_rows (key, target_id, fields, note, imported_at) VALUES (?, ?, ?, ?, ?)`,
		key, target, string(b), note, r.o.At.UTC())
	if err != nil {
		return fmt.Errorf("import row %s: %w", key, err)
	}
	return nil
}

// compare reports the fields of a row imported before that differ now.
func (r *run) compare(c *Count, row, before string, now any) {
	var was, is map[string]any
	json.Unmarshal([]byte(before), &was)
	b, _ := json.Marshal(now)
	json.Unmarshal(b, &is)
	var diffs []string
	shown := func(v any) string {
		if v == nil { // a field the row did not have then
			return ""
		}
		return fmt.Sprint(v)
	}
	for _, k := range slices.Sorted(maps.Keys(is)) {
		if shown(was[k]) != shown(is[k]) {
			diffs = append(diffs, fmt.Sprintf("%s %s → %s", k, shown(was[k]), shown(is[k])))
		}
	}
	if len(diffs) == 0 {
		c.Unchanged++
		return
	}
	c.Changed++
	r.rep.change(row, "%s", strings.Join(diffs, ", "))
}

var (
	loginRe = regexp.MustCompile(`^[a-z0-9][a-z0-9_.-]{2,31}$`)
	phoneRe = regexp.MustCompile(`^\+?[0-9 ()-]{5,40}$`)
)

// printable tells a password a person could have typed: a wrong ABillS key
// decodes to bytes that are not.
func printable(s string) bool {
	if s == "" || !utf8.ValidString(s) {
		return false
	}
	for _, c := range s {
		if !unicode.IsPrint(c) {
			return false
		}
	}
	return true
}

func (r *run) subscriber(s Subscriber) error {
	r.rep.Subscribers.Read++
	row := s.Row
	if row == "" {
		row = "subscriber " + s.Key
	}
	login := strings.ToLower(strings.TrimSpace(s.Login))
	status := s.Status
	if status == "" {
		status = StatusActive
	}
	f := subFields{Login: login, Contract: strings.TrimSpace(s.Contract), Name: strings.TrimSpace(s.Name), Phone: strings.TrimSpace(s.Phone),
		Email: strings.TrimSpace(s.Email), City: strings.TrimSpace(s.City), Address: strings.TrimSpace(s.Address), Tariff: s.Tariff,
		Balance: strings.TrimSpace(s.Balance), Credit: strings.TrimSpace(s.Credit), IP: strings.TrimSpace(s.IP), Status: status}
	if f.Phone == "" {
		f.Phone, s.Phone2 = strings.TrimSpace(s.Phone2), ""
	}
	if p2 := strings.TrimSpace(s.Phone2); p2 != f.Phone {
		f.Phone2 = p2
	}
	if credit, err := amount(f.Credit); err == nil && credit != 0 {
		f.CreditUntil = s.CreditUntil
	}
	if f.IP == "*" || f.IP == "0.0.0.0" {
		f.IP = ""
	}
	// Without a contract number the login is one.
	defaulted := f.Contract == ""
	if defaulted {
		f.Contract = login
	}
	k := r.key("subscriber", s.Key)
	if p, ok := r.prior[k]; ok {
		r.subs[s.Key] = &subRef{id: p.target}
		r.compare(&r.rep.Subscribers, row, p.fields, f)
		return nil
	}
	ok := true
	fail := func(format string, args ...any) {
		r.rep.problem(row, format, args...)
		ok = false
	}
	switch {
	case !loginRe.MatchString(login):
		fail("login %q: Kabinet takes 3 to 32 of a-z, 0-9, '.', '_', '-'", s.Login)
	case r.logins[login]:
		fail("duplicate login %q", login)
	}
	switch {
	case s.PasswordErr != nil:
		fail("password cannot be decoded: %v", s.PasswordErr)
	case !printable(s.Password):
		fail("password cannot be decoded: empty or not printable")
	case utf8.RuneCountInString(s.Password) > 64:
		fail("password longer than 64 characters")
	}
	t, known := r.tariffs[s.Tariff]
	if _, ok := r.src.(interface{ kabinetTariffs() }); ok && !known {
		t, known = r.kabinet[strings.ToLower(s.Tariff)]
	}
	switch {
	case r.badTariff[s.Tariff]:
		fail("tariff %q was not imported", s.Tariff)
	case !known:
		fail("unknown tariff %q", s.Tariff)
	}
	bal, err := amount(f.Balance)
	if err != nil {
		fail("balance %v", err)
	}
	if r.contracts[f.Contract] && !(defaulted && r.logins[login]) {
		fail("duplicate contract number %q", f.Contract)
	}
	switch status {
	case StatusActive, StatusFrozen, StatusBlocked:
	default:
		fail("status %q", status)
	}
	// Fields Kabinet cannot keep as they are: the row can still come across
	// without them (--skip-problems).
	if f.Email != "" {
		if a, err := mail.ParseAddress(f.Email); err != nil || a.Address != f.Email {
			r.rep.problem(row, "bad e-mail %q", f.Email)
			f.Email = ""
		}
	}
	if f.Phone != "" && !phoneRe.MatchString(f.Phone) {
		r.rep.problem(row, "bad phone %q", f.Phone)
		f.Phone = ""
		if p2 := strings.TrimSpace(s.Phone2); phoneRe.MatchString(p2) {
			f.Phone, s.Phone2, f.Phone2 = p2, "", ""
		}
	}
	if f.IP != "" {
		a, err := netip.ParseAddr(f.IP)
		switch {
		case err != nil || !a.Is4():
			r.rep.problem(row, "bad IP address %q", f.IP)
			f.IP = ""
		case r.ips[a.String()]:
			r.rep.problem(row, "IP address %s is another subscriber's", f.IP)
			f.IP = ""
		default:
			f.IP = a.String()
		}
	}
	if len(f.Name) > 200 || len(f.Address) > 300 {
		fail("name or address too long")
	}
	if !ok {
		r.rep.Subscribers.Skipped++
		r.skipped[s.Key] = true
		return nil
	}
	var notes []string
	if credit, err := amount(f.Credit); err == nil && credit != 0 {
		n := "credit " + credit.Decimal()
		if f.CreditUntil != "" {
			n += " until " + f.CreditUntil
		}
		notes = append(notes, n)
		r.rep.Credits++
	}
	if f.Phone2 != "" {
		notes = append(notes, "second phone "+f.Phone2)
	}
	cityID, err := r.city(f.City)
	if err != nil {
		return err
	}
	r.logins[login], r.contracts[f.Contract] = true, true
	if f.IP != "" {
		r.ips[f.IP] = true
	}
	r.pendingSubs = append(r.pendingSubs, pendingSub{key: s.Key, row: row, f: f, password: s.Password, cityID: cityID,
		tariff: t, balance: bal, note: strings.Join(notes, "; ")})
	if len(r.pendingSubs) >= subBatch {
		return r.flushSubs()
	}
	return nil
}

// city finds a city by name, creating it on first sight.
func (r *run) city(name string) (int64, error) {
	if name == "" {
		return 0, nil
	}
	if id, ok := r.cities[strings.ToLower(name)]; ok {
		return id, nil
	}
	var id int64
	if err := r.tx.QueryRow(r.ctx, `INSERT INTO cities (code, name) VALUES (?, ?) RETURNING id`, r.code("city", name), name).Scan(&id); err != nil {
		return 0, fmt.Errorf("city %s: %w", name, err)
	}
	r.cities[strings.ToLower(name)] = id
	return id, nil
}

// code makes a free catalogue code of kind from a name, in Latin letters.
func (r *run) code(kind, name string) string {
	base := slug(name)
	if base == "" {
		base = kind
	}
	c := base
	for i := 2; r.codes[kind+":"+c]; i++ {
		c = fmt.Sprintf("%s-%d", base, i)
	}
	r.codes[kind+":"+c] = true
	return c
}

var translit = map[rune]string{
	'а': "a", 'б': "b", 'в': "v", 'г': "g", 'д': "d", 'е': "e", 'ё': "e", 'ж': "zh", 'з': "z", 'и': "i", 'й': "y",
	'к': "k", 'л': "l", 'м': "m", 'н': "n", 'о': "o", 'п': "p", 'р': "r", 'с': "s", 'т': "t", 'у': "u", 'ф': "f",
	'х': "h", 'ц': "ts", 'ч': "ch", 'ш': "sh", 'щ': "sch", 'ъ': "", 'ы': "y", 'ь': "", 'э': "e", 'ю': "yu", 'я': "ya",
	'і': "i", 'ї': "yi", 'є': "ye", 'ґ': "g",
}

// slug is name in lower-case Latin letters, digits and '-', at most 32 long.
func slug(name string) string {
	var b strings.Builder
	dash := false
	for _, c := range strings.ToLower(name) {
		var s string
		switch {
		case c >= 'a' && c <= 'z' || c >= '0' && c <= '9':
			s = string(c)
		case translit[c] != "":
			s = translit[c]
		default:
			if b.Len() > 0 {
				dash = true
			}
			continue
		}
		if dash {
			b.WriteByte('-')
			dash = false
		}
		b.WriteString(s)
	}
	out := b.String()
	if len(out) > 32 {
		out = strings.TrimRight(out[:32], "-")
	}
	return out
}

func marks(rows, cols int) string {
	one := "(" + strings.TrimSuffix(strings.Repeat("?, ", cols), ", ") + ")"
	return strings.TrimSuffix(strings.Repeat(one+", ", rows), ", ")
}

// flushSubs writes the pending subscribers: their ledger accounts,
// accounts, import rows, static IPs, and through the ledger each one's
// opening balance.
func (r *run) flushSubs() error {
	if len(r.pendingSubs) == 0 {
		return nil
	}
	at := r.o.At.UTC()
	date := r.o.At.In(r.o.Biller.Rules.Zone).Format("2006-01-02")
	var txns []ledger.Txn
	for part := range slices.Chunk(r.pendingSubs, subChunk) {
		args := make([]any, 0, 2*len(part))
		for _, p := range part {
			args = append(args, "subscriber:"+p.f.Login, ledger.KindSubscriber)
		}
		lids := map[string]int64{}
		if err := r.keyed(`INSERT INTO ledger_accounts (code, kind) VALUES `+marks(len(part), 2)+` RETURNING id, code`, args, lids); err != nil {
			return fmt.Errorf("ledger accounts: %w", err)
		}
		args = args[:0]
		for i := range part {
			p := &part[i]
			p.sealed = r.o.Sealer.Seal(p.f.Login, p.password)
			// No portal hash: the first login makes it from the sealed
			// copy (see subscriber.Directory.Authenticate).
			const hash = ""
			var city, debt any
			if p.cityID != 0 {
				city = p.cityID
			}
			if p.balance < 0 {
				debt = at // the debt's clock starts at the cut-over
			}
			status := p.f.Status
			args = append(args, p.f.Login, p.f.Contract, date, p.f.Name, p.f.Address, city, p.f.Phone, p.f.Email, hash, p.sealed,
				p.tariff.id, status, lids["subscriber:"+p.f.Login], debt, at, at)
		}
		ids := map[string]int64{}
		if err := r.keyed(`INSERT INTO accounts (login, contract_no, contract_date, name, address, city_id, phone, email, password_hash, password_enc, tariff_id, status, ledger_id, debt_since, created_at, updated_at)
			VALUES `+marks(len(part), 16)+` RETURNING id, login`, args, ids); err != nil {
			return fmt.Errorf("accounts: %w", err)
		}
		args = args[:0]
		var ipArgs []any
		for _, p := range part {
			id, lid := ids[p.f.Login], lids["subscriber:"+p.f.Login]
			b, _ := json.Marshal(p.f)
			args = append(args, r.key("subscriber", p.key), id, string(b), p.note, at)
			r.subs[p.key] = &subRef{id: id, ledgerID: lid, fresh: true}
			if p.f.IP != "" {
				ipArgs = append(ipArgs, id, p.f.IP, at)
			}
			txns = append(txns, ledger.Txn{Key: r.key("opening", p.key), Kind: TxnOpening, AccountID: id, Amount: p.balance,
				Memo: "opening balance from " + r.src.System(), EffectiveAt: r.o.At,
				Postings: []ledger.Posting{{LedgerAccountID: lid, Amount: p.balance}, {LedgerAccountID: r.equity, Amount: -p.balance}}})
			// The old billing charged the month of the cut-over: its key
			// (billing's own for the tariff fee) is taken with nothing
			// moved, so that Kabinet's run does not charge it again.
			txns = append(txns, ledger.Txn{Key: fmt.Sprintf("fee:%d:tariff:%s", id, r.period.Key), Kind: ledger.TxnCharge, AccountID: id,
				Service: p.tariff.code, Period: r.period.Key, Memo: "charged by " + r.src.System(), EffectiveAt: r.o.At,
				Postings: []ledger.Posting{{LedgerAccountID: lid}, {LedgerAccountID: r.revenue}}})
			r.rep.OpeningSum += p.balance
		}
		if _, err := r.tx.Exec(r.ctx, `INSERT INTO import_rows (key, target_id, fields, note, imported_at) VALUES `+marks(len(part), 5), args...); err != nil {
			return fmt.Errorf("import rows: %w", err)
		}
		if len(ipArgs) > 0 {
			pkg, err := r.staticIPPackage()
			if err != nil {
				return err
			}
			var sargs []any
			for i := 0; i < len(ipArgs); i += 3 {
				sargs = append(sargs, ipArgs[i], pkg, ipArgs[i+2], ipArgs[i+1])
			}
			if _, err := r.tx.Exec(r.ctx, `INSERT INTO subscriptions (account_id, package_id, started_at, static_ip) VALUES `+marks(len(sargs)/4, 4), sargs...); err != nil {
				return fmt.Errorf("static IPs: %w", err)
			}
			r.rep.StaticIPs += int64(len(sargs) / 4)
		}
		r.rep.Subscribers.New += int64(len(part))
	}
	if _, _, err := ledger.PostMany(r.ctx, r.tx, txns, r.o.At); err != nil {
		return fmt.Errorf("opening balances: %w", err)
	}
	r.pendingSubs = r.pendingSubs[:0]
	return nil
}

// keyed runs an INSERT … RETURNING id, key into ids.
func (r *run) keyed(q string, args []any, ids map[string]int64) error {
	return r.each(q, args, func(sc func(...any) error) error {
		var id int64
		var k string
		if err := sc(&id, &k); err != nil {
			return err
		}
		ids[k] = id
		return nil
	})
}

// staticIPPackage is the package imported addresses are kept under: free
// (the old billing's fee is in the tariff) and archived, so that nobody
// connects it anew.
func (r *run) staticIPPackage() (int64, error) {
	if r.staticPkg != 0 {
		return r.staticPkg, nil
	}
	const code = "imported-static-ip"
	err := r.tx.QueryRow(r.ctx, `SELECT id FROM packages WHERE code = ?`, code).Scan(&r.staticPkg)
	if err == nil {
		return r.staticPkg, nil
	}
	err = r.tx.QueryRow(r.ctx, `INSERT INTO packages (code, kind, name, name_en, price, pricing, archived, created_at) VALUES (?, ?, ?, ?, 0, ?, ?, ?) RETURNING id`,
		code, billing.PackageStaticIP, "Постоянный IP-адрес", "Static IP address", billing.PriceMonthly, true, r.o.At.UTC()).Scan(&r.staticPkg)
	if err != nil {
		return 0, fmt.Errorf("static IP package: %w", err)
	}
	return r.staticPkg, nil
}

func (r *run) payment(p Payment) error {
	r.rep.Payments.Read++
	row := p.Row
	if row == "" {
		row = "payment " + p.Key
	}
	sub := r.subs[p.Subscriber]
	if sub == nil {
		r.rep.Payments.Skipped++
		if !r.skipped[p.Subscriber] {
			r.rep.problem(row, "subscriber %q is not in the source", p.Subscriber)
		}
		return nil
	}
	a, err := amount(p.Amount)
	if err != nil {
		r.rep.Payments.Skipped++
		r.rep.problem(row, "amount %v", err)
		return nil
	}
	if p.At.IsZero() {
		r.rep.Payments.Skipped++
		r.rep.problem(row, "no date")
		return nil
	}
	r.pendingPays = append(r.pendingPays, pendingPay{p: p, row: row, amount: a, sub: sub})
	if len(r.pendingPays) >= batch {
		return r.flushPays()
	}
	return nil
}

// flushPays writes the pending payments: those of subscribers this run
// created become history; those of subscribers of an earlier run are
// credited when their key has not been seen, since the balance imported
// then did not hold them.
func (r *run) flushPays() error {
	for part := range slices.Chunk(r.pendingPays, payChunk) {
		var hist []any
		var later []pendingPay
		for _, pp := range part {
			if pp.sub.fresh {
				hist = append(hist, r.key("payment", pp.p.Key), pp.sub.id, pp.p.At.UTC(), int64(pp.amount), pp.p.Channel, pp.p.Memo)
			} else {
				later = append(later, pp)
			}
		}
		if len(hist) > 0 {
			res, err := r.tx.Exec(r.ctx, `INSERT INTO payment_history (key, account_id, paid_at, amount, channel, memo) VALUES `+marks(len(hist)/6, 6)+` ON CONFLICT (key) DO NOTHING`, hist...)
			if err != nil {
				return fmt.Errorf("payment history: %w", err)
			}
			n, _ := res.RowsAffected()
			r.rep.Payments.New += n
			r.rep.Payments.Unchanged += int64(len(hist)/6) - n
		}
		if len(later) > 0 {
			if err := r.credit(later); err != nil {
				return err
			}
		}
	}
	r.pendingPays = r.pendingPays[:0]
	return nil
}

func (r *run) credit(pays []pendingPay) error {
	keys := make([]string, len(pays))
	for i, pp := range pays {
		keys[i] = r.key("payment", pp.p.Key)
	}
	seen := map[string]bool{}
	in, args := store.InList(keys)
	for _, q := range []string{`SELECT key FROM payment_history WHERE key IN (` + in + `)`, `SELECT key FROM ledger_txns WHERE key IN (` + in + `)`} {
		if err := r.each(q, args, func(sc func(...any) error) error {
			var k string
			err := sc(&k)
			seen[k] = true
			return err
		}); err != nil {
			return fmt.Errorf("payments seen: %w", err)
		}
	}
	cash, err := ledger.Account(r.ctx, r.tx, ledger.CashCode("import:"+r.src.System()), ledger.KindCash)
	if err != nil {
		return err
	}
	var txns []ledger.Txn
	var accounts []int64
	for i, pp := range pays {
		if seen[keys[i]] {
			r.rep.Payments.Unchanged++
			continue
		}
		seen[keys[i]] = true
		if pp.sub.ledgerID == 0 {
			if err := r.tx.QueryRow(r.ctx, `SELECT ledger_id FROM accounts WHERE id = ?`, pp.sub.id).Scan(&pp.sub.ledgerID); err != nil {
				return fmt.Errorf("account %d: %w", pp.sub.id, err)
			}
		}
		kind := ledger.TxnPayment
		if pp.amount < 0 {
			kind = ledger.TxnCorrection
		}
		memo := strings.TrimSpace(pp.p.Channel + " " + pp.p.Memo)
		txns = append(txns, ledger.Txn{Key: keys[i], Kind: kind, AccountID: pp.sub.id, Amount: pp.amount, Service: "import:" + r.src.System(),
			Memo: memo, EffectiveAt: pp.p.At, Postings: []ledger.Posting{{LedgerAccountID: pp.sub.ledgerID, Amount: pp.amount}, {LedgerAccountID: cash, Amount: -pp.amount}}})
		accounts = append(accounts, pp.sub.id)
		r.rep.Credited++
		r.rep.CreditedSum += pp.amount
		r.rep.change(pp.row, "new payment %s of %s, credited", pp.amount.Decimal(), pp.p.At.Format("2006-01-02 15:04"))
	}
	if len(txns) == 0 {
		return nil
	}
	if _, _, err := ledger.PostMany(r.ctx, r.tx, txns, r.o.Biller.Clock.Now()); err != nil {
		return fmt.Errorf("new payments: %w", err)
	}
	slices.Sort(accounts)
	for _, id := range slices.Compact(accounts) {
		if err := r.o.Biller.Settle(r.ctx, r.tx, id, r.o.Biller.Clock.Now()); err != nil {
			return err
		}
	}
	return nil
}
