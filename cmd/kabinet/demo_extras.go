package main

import (
	"context"

	"github.com/kabinet-billing/kabinet/internal/clock"
)

// seedDemoExtras seeds what other capabilities show: news and promotions,
// operators, requests.
func seedDemoExtras(ctx context.Context, e *env, clk clock.Clock) error {
	return nil
}
