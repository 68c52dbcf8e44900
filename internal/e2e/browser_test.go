//go:build linux

package e2e

import (
	"bufio"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// chromium finds a headless-capable Chromium or Chrome, or skips the test
// saying why.
func chromium(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"} {
		if path, err := exec.LookPath(name); err == nil {
			return path
		}
	}
	t.Skip("skipped: needs chromium (Debian package chromium) for the live page's browser test")
	return ""
}

// The live page of a real run, in a real browser: hbclient against a server
// that answers after 2 s, with idle 1 s and interval 300 ms, so the
// connection dies at 1.9 s. The page must show what a student would see:
// the PINGs, the missed probes, DEAD and the verdict, and that the run has
// ended. A screenshot is left in testdata/out/live-page.png.
func TestLivePageInBrowser(t *testing.T) {
	browser := chromium(t)
	_, port, _ := startHBServer(t, "2")
	cli := exec.Command("hbclient", "127.0.0.1", port, "--idle", "1s", "--interval", "300ms", "--web", "127.0.0.1:0")
	stderr, err := cli.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cli.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cli.Process.Kill(); cli.Wait() })
	lines := make(chan string, 16)
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			lines <- sc.Text()
		}
	}()
	url := waitLine(t, lines, "hbclient: live page at ")

	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	actx, cancelAlloc := chromedp.NewExecAllocator(ctx, append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(browser), chromedp.NoSandbox, chromedp.WindowSize(1400, 1000))...)
	defer cancelAlloc()
	bctx, cancelBrowser := chromedp.NewContext(actx)
	defer cancelBrowser()
	if err := chromedp.Do(bctx, chromedp.Navigate(url), chromedp.WaitVisible(chromedp.CSS("#verdict"))); err != nil {
		t.Fatalf("browser: %v", err)
	}
	text := func(sel string) string {
		s, err := chromedp.Run(bctx, chromedp.Text(chromedp.CSS(sel)))
		if err != nil {
			t.Fatalf("browser: %s: %v", sel, err)
		}
		return s
	}
	picture, verdict, status := text("#picture"), text("#verdict"), text("#status")
	shot, err := chromedp.Run(bctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatalf("browser: screenshot: %v", err)
	}
	if dir := filepath.Join("testdata", "out"); os.MkdirAll(dir, 0o755) == nil {
		path := filepath.Join(dir, "live-page.png")
		if err := os.WriteFile(path, shot, 0o644); err == nil {
			t.Logf("screenshot: internal/e2e/%s", path)
		}
	}
	for _, want := range []string{"PING #1", "PING #2", "PING #3", "missed 1/3", "missed 3/3", "DEAD (heartbeat)"} {
		if !strings.Contains(picture, want) {
			t.Errorf("the page's picture lacks %q:\n%s", want, picture)
		}
	}
	if !strings.Contains(status, "DEAD (heartbeat): 3 probes unanswered; observed 1.9") {
		t.Errorf("status line %q, want the DEAD event", status)
	}
	if !strings.Contains(verdict, "peer declared dead by the heartbeat") || !strings.Contains(verdict, "the run has ended") {
		t.Errorf("verdict %q", verdict)
	}

	// The page stays until Ctrl-C; the exit code still tells the verdict.
	waitLine(t, lines, "hbclient: the run has ended; the page stays at "+url+" until Ctrl-C")
	cli.Process.Signal(syscall.SIGINT)
	var exit *exec.ExitError
	if err := cli.Wait(); !errors.As(err, &exit) || exit.ExitCode() != 3 {
		t.Errorf("hbclient after Ctrl-C: %v, want exit 3 (dead)", err)
	}
}

// waitLine waits (20 s at most) for a line that starts with prefix and
// returns the rest of it.
func waitLine(t *testing.T, lines <-chan string, prefix string) string {
	t.Helper()
	timeout := time.After(20 * time.Second)
	for {
		select {
		case l, ok := <-lines:
			if !ok {
				t.Fatalf("stderr ended before %q", prefix)
			}
			if rest, found := strings.CutPrefix(l, prefix); found {
				return rest
			}
		case <-timeout:
			t.Fatalf("no %q on stderr within 20s", prefix)
		}
	}
}
