// Package payment is every way money reaches a subscriber's account: card
// processors (a hosted page plus a signed server-to-server callback), banks and
// terminals over the OSMP check/pay protocol, bank registries, bonus points,
// cashier payments and operator corrections.
//
// HTTP handlers here only translate between a wire protocol and the package's
// own types; the web layer mounts them. Card numbers never reach this package:
// processors take them on their own pages.
package payment
