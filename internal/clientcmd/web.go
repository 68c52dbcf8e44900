package clientcmd

import (
	"context"
	"fmt"
	"io"

	"github.com/heartbeat/heartbeat/internal/event"
	"github.com/heartbeat/heartbeat/internal/web"
)

// startPage serves --web's live page of the connection to peer, fed by
// every event of events, and says where on stderr (stdout is the
// timeline, which may be JSON).
func startPage(addr, peer string, events *event.Writer, stderr io.Writer) (*web.Server, error) {
	page, err := web.New(addr, web.Options{Title: "hbclient to " + peer, Picture: newPicture()})
	if err != nil {
		return nil, err
	}
	events.Tap(page.Tap)
	page.Announce(stderr, "hbclient")
	return page, nil
}

// keepPage marks the page ended with the run's verdict (err, nil for a
// run that ended without one) and serves it until ctx is done (Ctrl-C), so
// that a class can look at the end; an interrupted run does not wait.
func keepPage(ctx context.Context, page *web.Server, err error, stderr io.Writer) {
	if ctx.Err() != nil {
		return
	}
	verdict := "the connection ended without a verdict (exit 0)"
	if err != nil {
		verdict = err.Error()
	}
	page.Finished(verdict)
	fmt.Fprintf(stderr, "hbclient: the run has ended; the page stays at %s until Ctrl-C\n", page.URL())
	<-ctx.Done()
}
