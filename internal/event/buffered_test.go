package event

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"
)

// gate is an output that takes one Write at a time: each Write hands its
// bytes to the test on entered, then waits for release, as a pipe that
// nobody reads would.
type gate struct {
	entered chan []byte
	release chan struct{}
}

func newGate() *gate { return &gate{entered: make(chan []byte), release: make(chan struct{})} }

func (g *gate) Write(p []byte) (int, error) {
	g.entered <- bytes.Clone(p)
	<-g.release
	return len(p), nil
}

// lineOf is one text line as the Writer writes it.
func lineOf(t time.Duration, text string) string {
	var w bytes.Buffer
	say(NewWriter(&w, false), t, text)
	return w.String()
}

func TestBufferedNeverWaitsAndCountsDrops(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		g := newGate()
		w := NewBuffered(g, false)
		text := strings.Repeat("x", 90)
		say(w, 0, text)
		if got, want := string(<-g.entered), lineOf(0, text); got != want {
			t.Fatalf("first write %q, want %q", got, want)
		}
		// The drainer is stuck in that Write: Emit must still return at once.
		const n = 20000
		for range n {
			say(w, time.Second, text)
		}
		fit := BufferSize / len(lineOf(time.Second, text))
		if got := w.Dropped(); got != n-int64(fit) {
			t.Fatalf("dropped %d lines, want %d (%d of %d fit)", got, n-fit, fit, n)
		}
		g.release <- struct{}{}
		if got := len(<-g.entered); got != fit*len(lineOf(time.Second, text)) {
			t.Fatalf("second write of %d bytes, want %d lines of %d", got, fit, len(lineOf(time.Second, text)))
		}
		// Room again: the next line comes after a line that counts the drops.
		say(w, 2*time.Second, "after")
		g.release <- struct{}{}
		want := fmt.Sprintf("   2.000  %d event lines dropped: the output was not read fast enough\n", n-fit) + lineOf(2*time.Second, "after")
		if got := string(<-g.entered); got != want {
			t.Fatalf("after the drops got %q, want %q", got, want)
		}
		// Every drop has been said, in one line: Close adds none, so the
		// total is not said twice.
		g.release <- struct{}{}
		if err := w.Close(); err != nil {
			t.Fatalf("Close: %v", err)
		}
	})
}

// Two spells of drops: the second line says the total so far, and the
// drops not yet said when Close comes get a last line with the total.
func TestBufferedDropLinesSayTheTotalOnce(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		g := newGate()
		w := NewBuffered(g, false)
		say(w, 0, "")
		<-g.entered
		fill := func() int64 {
			for w.dropped == 0 {
				say(w, time.Second, strings.Repeat("x", 1000))
			}
			for range 2 {
				say(w, time.Second, strings.Repeat("x", 1000))
			}
			return w.dropped
		}
		first := fill()
		g.release <- struct{}{}
		<-g.entered // the buffer: room again
		say(w, 2*time.Second, "after")
		g.release <- struct{}{}
		want := fmt.Sprintf("   2.000  %d event lines dropped: the output was not read fast enough\n", first) + lineOf(2*time.Second, "after")
		if got := string(<-g.entered); got != want {
			t.Fatalf("after the first drops got %q, want %q", got, want)
		}
		second := fill()
		g.release <- struct{}{}
		<-g.entered
		say(w, 3*time.Second, "after")
		g.release <- struct{}{}
		want = fmt.Sprintf("   3.000  %d event lines dropped (%d in all): the output was not read fast enough\n", second, first+second) + lineOf(3*time.Second, "after")
		if got := string(<-g.entered); got != want {
			t.Fatalf("after the second drops got %q, want %q", got, want)
		}
		third := fill()
		g.release <- struct{}{}
		<-g.entered
		closed := make(chan error)
		go func() { closed <- w.Close() }()
		g.release <- struct{}{}
		want = fmt.Sprintf("   3.000  %d event lines dropped (%d in all): the output was not read fast enough\n", third, first+second+third)
		if got := string(<-g.entered); got != want {
			t.Fatalf("at Close got %q, want %q", got, want)
		}
		g.release <- struct{}{}
		if err := <-closed; err != nil {
			t.Fatalf("Close: %v", err)
		}
	})
}

func TestBufferedJSONDropEvents(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		g := newGate()
		w := NewBuffered(g, true)
		say(w, 0, "")
		<-g.entered
		for w.Dropped() == 0 {
			Emit(w, time.Second, PingSent{Seq: 1})
		}
		g.release <- struct{}{}
		<-g.entered
		go w.Close()
		g.release <- struct{}{}
		want := `{"t":1,"event":"dropped","lines":1,"total":1}` + "\n"
		if got := string(<-g.entered); got != want {
			t.Fatalf("got %s, want %s", got, want)
		}
		g.release <- struct{}{}
	})
}

// A stdout that is never read does not keep Close: it gives up after
// CloseWait, saying so.
func TestCloseGivesUpOnBlockedOutput(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		g := newGate()
		w := NewBuffered(g, false)
		say(w, 0, "one")
		<-g.entered
		say(w, 0, "two")
		start := time.Now()
		err := w.Close()
		if !errors.Is(err, ErrBlocked) || time.Since(start) != CloseWait {
			t.Fatalf("Close after %v: %v, want ErrBlocked after %v", time.Since(start), err, CloseWait)
		}
		// "one" is in the write under way, "two" waits: neither is out.
		if want := "event: output blocked: 2 event lines not written within 500ms"; err.Error() != want {
			t.Fatalf("Close: %q, want %q", err, want)
		}
		// The numbers come apart, for a tool to say in its own words.
		var lost *BlockedError
		if !errors.As(err, &lost) || *lost != (BlockedError{Unwritten: 2, Wait: CloseWait}) {
			t.Fatalf("Close: %#v, want a BlockedError of 2 lines", err)
		}
		say(w, time.Second, "after Close")
		if w.Dropped() != 1 {
			t.Fatalf("a line after Close: dropped %d, want 1", w.Dropped())
		}
		g.release <- struct{}{} // "one" written; "two" next, then the drainer ends
		<-g.entered
		g.release <- struct{}{}
	})
}

// A tool whose stdout is blocked at exit says on stderr how many lines were
// lost: those not written and those dropped before.
func TestCloseReportingSaysWhatWasLost(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		g := newGate()
		w := NewBuffered(g, false)
		say(w, 0, "one")
		<-g.entered
		long := strings.Repeat("x", 60) // one line each: the count is of lines
		for w.Dropped() < 3 {
			say(w, 0, long)
		}
		queued := BufferSize / len(lineOf(0, long))
		var stderr bytes.Buffer
		w.CloseReporting(&stderr, "hbserver")
		// "one", the lines queued and the "dropped" line Close added.
		want := fmt.Sprintf("hbserver: output blocked: %d event lines not written within 500ms, 3 dropped before\n", 1+queued+1)
		if stderr.String() != want {
			t.Fatalf("stderr %q, want %q", stderr.String(), want)
		}
		close(g.release) // let the drainer write the rest and end
		<-g.entered
	})
}

func TestBufferedWriteErrorStopsOutput(t *testing.T) {
	f := &failing{}
	w := NewBuffered(f, false)
	say(w, 0, "one")
	if err := w.Close(); err == nil || f.n != 1 {
		t.Fatalf("Close: %v after %d writes, want the write error after 1", err, f.n)
	}
	say(w, 0, "two")
	if f.n != 1 {
		t.Fatalf("%d writes after a failure", f.n-1)
	}
}

// t never decreases in a stream, whoever emits: a line that comes late to
// the lock takes the time of the line before it.
func TestTimeNeverDecreases(t *testing.T) {
	var b bytes.Buffer
	w := NewWriter(&b, true)
	say(w, 2*time.Second, "")
	Emit(w, time.Second, PingSent{Seq: 1})
	want := `{"t":2,"event":"note"}` + "\n" + `{"t":2,"event":"ping","seq":1}` + "\n"
	if b.String() != want {
		t.Fatalf("got %s, want %s", b.String(), want)
	}
}

func TestConcurrentEmittersInOrder(t *testing.T) {
	var b bytes.Buffer
	w := NewWriter(&b, false)
	start := time.Now()
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for range 500 {
				say(w, time.Since(start), "")
			}
		})
	}
	wg.Wait()
	var last float64
	for i, l := range strings.Split(strings.TrimSpace(b.String()), "\n") {
		var s float64
		if _, err := fmt.Sscan(l, &s); err != nil {
			t.Fatal(err)
		}
		if s < last {
			t.Fatalf("line %d: t %v after %v", i, s, last)
		}
		last = s
	}
}
