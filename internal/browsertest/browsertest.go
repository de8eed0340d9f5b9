// Package browsertest finds the Chromium that browser tests drive, in one
// way for every test.
package browsertest

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// Chromium is the path of the Chromium binary to drive: $KABINET_CHROMIUM,
// else Debian's /usr/bin/chromium, else chromium or chromium-browser on the
// PATH. Without one the test is skipped, saying how to get it.
func Chromium(t testing.TB) string {
	t.Helper()
	if p := os.Getenv("KABINET_CHROMIUM"); p != "" {
		if _, err := os.Stat(p); err != nil {
			t.Fatalf("KABINET_CHROMIUM=%s: %v", p, err)
		}
		return p
	}
	for _, name := range []string{"/usr/bin/chromium", "chromium", "chromium-browser"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	t.Skip("browser test skipped: no Chromium (apt-get install -y chromium, or set KABINET_CHROMIUM)")
	return ""
}

// Context starts a headless Chromium (skipping the test without one) and
// returns a context driving its first tab, bounded by timeout from the
// moment the browser is up. The browser is stopped when the test ends.
// The window is 1280×900 unless extra options (a window size, a language)
// say otherwise; they come after the defaults and win.
func Context(t testing.TB, timeout time.Duration, extra ...chromedp.ExecAllocatorOption) context.Context {
	t.Helper()
	bin := Chromium(t)
	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(bin), chromedp.Flag("headless", true),
		chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun, chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true), chromedp.Flag("disable-sync", true), chromedp.WindowSize(1280, 900))
	opts = append(opts, extra...)
	actx, cancel := chromedp.NewExecAllocator(context.Background(), opts...)
	t.Cleanup(cancel)
	ctx, cancel := chromedp.NewContext(actx)
	t.Cleanup(cancel)
	// The first action starts the browser; a deadline on it would stop the
	// browser with it, so the bound starts after.
	if err := chromedp.Do(ctx, chromedp.Navigate("about:blank")); err != nil {
		t.Fatalf("browser: %v", err)
	}
	ctx, cancel = context.WithTimeout(ctx, timeout)
	t.Cleanup(cancel)
	return ctx
}

// Screenshot writes the whole page as dir/name.png.
func Screenshot(dir, name string) chromedp.Action[chromedp.Void] {
	return func(ctx context.Context, t *chromedp.Target) (chromedp.Void, error) {
		b, err := chromedp.FullScreenshot(100)(ctx, t)
		if err != nil {
			return chromedp.Void{}, err
		}
		return chromedp.Void{}, os.WriteFile(filepath.Join(dir, name+".png"), b, 0o644)
	}
}

// Shots is the directory screenshots go to: $KABINET_SCREENSHOTS, else a
// temporary directory of the test's.
func Shots(t testing.TB) string {
	dir := os.Getenv("KABINET_SCREENSHOTS")
	if dir == "" {
		return t.TempDir()
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// PageWidth is how wide the loaded page lays out, in CSS pixels: wider than
// the viewport means the page scrolls sideways.
func PageWidth() chromedp.Action[int] {
	return chromedp.Evaluate[int](`document.documentElement.scrollWidth`)
}
