// Package payment is every way money reaches a subscriber's account: card
// processors (a hosted page plus a signed server-to-server callback), SBP by a
// QR code through a processor that offers it (YooKassa, the sandbox), saved
// cards charged for autopay, banks and terminals over the OSMP check/pay
// protocol, bank registries, bonus points, cashier payments and operator
// corrections; and refunds through the processor.
//
// YooKassa (yookassa.go) differs from the signed-callback processors: its
// notifications are unsigned, so they are taken only from its published
// networks and only as a hint: what is applied is what its API answers for
// the payment. Every request carries an Idempotence-Key, repeated on retries.
//
// HTTP handlers here only translate between a wire protocol and the package's
// own types; the web layer mounts them. Card numbers never reach this package:
// processors take them on their own pages.
package payment
