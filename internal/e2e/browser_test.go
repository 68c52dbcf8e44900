//go:build linux

package e2e

import (
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
	bctx := openBrowser(t)
	_, port, _ := startHBServer(t, "2")
	cli := exec.Command("hbclient", "127.0.0.1", port, "--idle", "1s", "--interval", "300ms", "--web", "127.0.0.1:0")
	_, _, lines := startPiped(t, cli)
	url := waitLine(t, lines, "hbclient: live page at ")

	if err := chromedp.Do(bctx, chromedp.Navigate(url), chromedp.WaitVisible(chromedp.CSS("#verdict"))); err != nil {
		t.Fatalf("browser: %v", err)
	}
	picture, verdict, status := pageText(t, bctx, "#picture"), pageText(t, bctx, "#verdict"), pageText(t, bctx, "#status")
	screenshot(t, bctx, "live-page.png")
	for _, want := range []string{"PING #1", "PING #2", "PING #3", "missed 1/3", "missed 3/3", "DEAD (heartbeat)"} {
		if !strings.Contains(picture, want) {
			t.Errorf("the page's picture lacks %q:\n%s", want, picture)
		}
	}
	if !strings.Contains(status, "DEAD (heartbeat): 3 probes unanswered; observed 1.9") {
		t.Errorf("status line %q, want the DEAD event", status)
	}
	if !strings.Contains(verdict, "dead by the heartbeat") || !strings.Contains(verdict, "the run has ended") {
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

// hbserver's page in a real browser, as a teacher uses it: a row for each
// of two students' clients, then SLEEP raised from the page (typed in the
// command field and sent), above the clients' 100 ms interval, kills
// both: their rows say so. A screenshot is left in
// testdata/out/server-page.png.
func TestServerPageInBrowser(t *testing.T) {
	bctx := openBrowser(t)
	addrFile := filepath.Join(t.TempDir(), "addr")
	_, _, srvErr := startPiped(t, exec.Command("hbserver", "127.0.0.1", "0", "--addr-file", addrFile, "--web", "127.0.0.1:0"))
	url := waitLine(t, srvErr, "hbserver: live page at ")
	port := waitPort(t, addrFile)
	var clients []*exec.Cmd
	for range 2 {
		c := exec.Command("hbclient", "127.0.0.1", port, "--idle", "200ms", "--interval", "100ms")
		startPiped(t, c)
		clients = append(clients, c)
	}
	pollPicture := func(js string) {
		t.Helper()
		_, err := chromedp.Run(bctx, chromedp.Poll[bool](`document.querySelector("#picture").textContent.includes(`+js+`)`,
			chromedp.WithPollingTimeout(20*time.Second)))
		if err != nil {
			t.Fatalf("browser: no %s on the page: %v\n%s", js, err, pageText(t, bctx, "#picture"))
		}
	}
	if err := chromedp.Do(bctx, chromedp.Navigate(url), chromedp.WaitVisible(chromedp.CSS("#controls"))); err != nil {
		t.Fatalf("browser: %v", err)
	}
	pollPicture(`"SLEEP 0s, fault none; 2 open"`)
	pollPicture(`"held 0s"`)
	if err := chromedp.Do(bctx, chromedp.SetValue(chromedp.CSS("#command"), "sleep 500ms"),
		chromedp.Click(chromedp.CSS(`#controls button[type="submit"]`))); err != nil {
		t.Fatalf("browser: %v", err)
	}
	pollPicture(`"SLEEP 500ms, fault none"`)
	pollPicture(`"0 open, 2 closed"`)
	screenshot(t, bctx, "server-page.png")
	if reply := pageText(t, bctx, "#reply"); !strings.Contains(reply, "sleep 500ms: from each connection's next PING") {
		t.Errorf("the page's reply to sleep 500ms: %q", reply)
	}
	for _, c := range clients {
		var exit *exec.ExitError
		if err := c.Wait(); !errors.As(err, &exit) || exit.ExitCode() != 3 {
			t.Errorf("hbclient after sleep 500ms: %v, want exit 3 (dead)", err)
		}
	}
}

// openBrowser starts headless chromium for the test (or skips it where
// there is none) and returns its tab.
func openBrowser(t *testing.T) context.Context {
	browser := chromium(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	actx, cancelAlloc := chromedp.NewExecAllocator(ctx, append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(browser), chromedp.NoSandbox, chromedp.WindowSize(1400, 1000))...)
	t.Cleanup(cancelAlloc)
	bctx, cancelBrowser := chromedp.NewContext(actx)
	t.Cleanup(cancelBrowser)
	return bctx
}

// pageText is the text of the page's element sel.
func pageText(t *testing.T, bctx context.Context, sel string) string {
	t.Helper()
	s, err := chromedp.Run(bctx, chromedp.Text(chromedp.CSS(sel)))
	if err != nil {
		t.Fatalf("browser: %s: %v", sel, err)
	}
	return s
}

// screenshot saves the page in testdata/out/name.
func screenshot(t *testing.T, bctx context.Context, name string) {
	t.Helper()
	shot, err := chromedp.Run(bctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatalf("browser: screenshot: %v", err)
	}
	if dir := filepath.Join("testdata", "out"); os.MkdirAll(dir, 0o755) == nil {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, shot, 0o644); err == nil {
			t.Logf("screenshot: internal/e2e/%s", path)
		}
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
