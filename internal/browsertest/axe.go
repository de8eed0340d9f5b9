package browsertest

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
)

// Axe is the source of axe-core (installed from npm by .ci/run into
// .ci/node): $KABINET_AXE, else the repository's .ci/node copy. Without it
// the test is skipped, saying how to get it.
func Axe(t testing.TB) string {
	t.Helper()
	p := os.Getenv("KABINET_AXE")
	if p == "" {
		dir, _ := os.Getwd()
		for ; dir != filepath.Dir(dir); dir = filepath.Dir(dir) {
			c := filepath.Join(dir, ".ci", "node", "node_modules", "axe-core", "axe.min.js")
			if _, err := os.Stat(c); err == nil {
				p = c
				break
			}
		}
	}
	if p == "" {
		t.Skip("accessibility check skipped: no axe-core (npm install --prefix .ci/node axe-core@4, as .ci/run does, or set KABINET_AXE)")
	}
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatalf("axe-core: %v", err)
	}
	return string(b)
}

// BypassCSP lets Violations inject axe into pages whose
// Content-Security-Policy allows scripts from the site only; it holds for
// the pages loaded after it.
func BypassCSP() chromedp.Action[chromedp.Void] {
	return func(ctx context.Context, t *chromedp.Target) (chromedp.Void, error) {
		_, err := chromedp.Call(ctx, page.SetBypassCSP, page.SetBypassCSPParams{Enabled: true})
		return chromedp.Void{}, err
	}
}

// Violations runs axe (source from Axe) on the loaded page against WCAG 2.1
// A and AA and returns one line per violated rule: its id, what it is and
// the elements that break it.
func Violations(src string) chromedp.Action[[]string] {
	return func(ctx context.Context, t *chromedp.Target) ([]string, error) {
		if _, err := chromedp.Evaluate[bool](src+";true")(ctx, t); err != nil {
			return nil, fmt.Errorf("inject axe: %w", err)
		}
		return chromedp.Evaluate[[]string](`axe.run(document, {runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']}})
			.then(r => r.violations.map(v => v.id + ' (' + v.help + '): ' + v.nodes.slice(0, 5).map(n => n.target.join(' ')).join(', ')))`,
			chromedp.EvalAwaitPromise)(ctx, t)
	}
}
