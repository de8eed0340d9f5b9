// Package radius answers the provider's access routers (NAS): authentication
// (RFC 2865), accounting (RFC 2866) and, as a client, Change-of-Authorization
// and Disconnect (RFC 5176).
//
// The package only translates between the wire and small interfaces
// (Directory, NASList, AccountingSink); the capability packages behind those
// interfaces own the data. Authentication is answered from memory (Cache) so
// that a slow disk never delays a login, and accounting is written in batches.
package radius

import (
	"context"
	"net/netip"
	"time"
)

// Status is the contractual state of a subscriber's account as RADIUS sees it.
type Status string

const (
	StatusActive  Status = "active"
	StatusLimited Status = "limited" // debt: admitted at the limit rate into the walled garden
	StatusBlocked Status = "blocked"
	StatusFrozen  Status = "frozen" // voluntary pause: no service
	StatusClosed  Status = "closed"
)

// Admitted reports whether a subscriber in this status may connect at all.
func (s Status) Admitted() bool { return s == StatusActive || s == StatusLimited }

// Subscriber is what authentication needs to know about one login.
type Subscriber struct {
	AccountID int64
	Login     string
	// Password is the cleartext: CHAP and MS-CHAPv2 cannot work from a hash.
	Password string
	Status   Status
	// DownKbps and UpKbps are the effective speed: the tariff's, the boosted
	// one while a boost is on, or the limit rate when Limited.
	DownKbps int64
	UpKbps   int64
	// Limited puts the session into the debtors' walled garden.
	Limited  bool
	StaticIP netip.Addr // zero when the subscriber has no static IP
	// SessionTimeout caps one session; zero means no cap.
	SessionTimeout time.Duration
}

// Directory finds subscribers. Implementations may be slow (a database);
// the server only reaches them through a Cache.
type Directory interface {
	// Lookup returns the subscriber with this login or derrors.NotFound.
	Lookup(ctx context.Context, login string) (Subscriber, error)
	// LookupAccount returns the logins of one account (usually one).
	LookupAccount(ctx context.Context, accountID int64) ([]Subscriber, error)
	// All returns every subscriber that may appear in an Access-Request; the
	// cache loads it at start so the first logins do not touch the disk.
	All(ctx context.Context) ([]Subscriber, error)
}

// NASKind selects the vendor attributes a NAS understands.
type NASKind string

const (
	KindMikrotik NASKind = "mikrotik"
	KindCisco    NASKind = "cisco"
	KindJuniper  NASKind = "juniper"
	KindAccel    NASKind = "accel"
	KindGeneric  NASKind = "generic"
)

// Valid reports whether k is a known kind.
func (k NASKind) Valid() bool {
	switch k {
	case KindMikrotik, KindCisco, KindJuniper, KindAccel, KindGeneric:
		return true
	}
	return false
}

// NAS is one access router allowed to talk to us.
type NAS struct {
	ID     int64
	Name   string
	Addr   netip.Addr // source address of its requests
	Secret string
	Kind   NASKind
	// CoAPort is where the NAS listens for CoA/Disconnect; 0 means 3799.
	CoAPort int
	// AllowUnsigned accepts Access-Requests without a Message-Authenticator
	// until the NAS sends its first one. Off (the zero value, the default
	// for a new NAS), an unsigned request is dropped: without the
	// signature a forged request passes for the NAS's own, and CHAP or
	// MS-CHAP would be answered whatever shared secret made it
	// (BlastRADIUS). An operator allows it, audited, for a NAS that cannot
	// sign.
	AllowUnsigned bool
}

// NASList finds a NAS by the source address of a packet.
type NASList interface {
	// LookupNAS returns the NAS or derrors.NotFound.
	LookupNAS(addr netip.Addr) (NAS, error)
}

// AcctStatus is Acct-Status-Type (RFC 2866).
type AcctStatus uint32

const (
	AcctStart   AcctStatus = 1
	AcctStop    AcctStatus = 2
	AcctInterim AcctStatus = 3
	AcctOn      AcctStatus = 7 // NAS (re)booted: all its sessions are gone
	AcctOff     AcctStatus = 8 // NAS going down: all its sessions are gone
)

func (s AcctStatus) String() string {
	switch s {
	case AcctStart:
		return "start"
	case AcctStop:
		return "stop"
	case AcctInterim:
		return "interim"
	case AcctOn:
		return "accounting-on"
	case AcctOff:
		return "accounting-off"
	}
	return "unknown"
}

// AcctRecord is one Accounting-Request, decoded.
type AcctRecord struct {
	Status    AcctStatus
	NASID     int64
	NASAddr   netip.Addr
	NASIdent  string // NAS-Identifier, informational
	SessionID string // Acct-Session-Id; with NASID the session key
	Login     string
	NASPort   uint32
	NASPortID string
	FramedIP  netip.Addr
	// CallingStationID is usually the subscriber's MAC address.
	CallingStationID string
	// InputOctets are bytes from the subscriber (upload), gigawords included.
	InputOctets  uint64
	OutputOctets uint64 // bytes to the subscriber (download)
	SessionTime  time.Duration
	// TerminateCause is Acct-Terminate-Cause on Stop, 0 otherwise.
	TerminateCause uint32
	// Class is echoed from the Access-Accept: see classFor.
	Class string
	// Time is when the event happened at the NAS: receive time minus
	// Acct-Delay-Time.
	Time time.Time
}

// AccountingSink stores accounting durably. WriteAccounting returns only
// when the records are safe: the NAS gets its Accounting-Response after that,
// and retransmits otherwise.
type AccountingSink interface {
	WriteAccounting(ctx context.Context, recs []AcctRecord) error
}
