package deadline

import (
	"math/rand/v2"
	"testing"
	"time"
)

type item struct{ slot Slot }

func (it *item) DeadlineSlot() *Slot { return &it.slot }

// However often deadlines move, each item holds one place in the queue, and
// items come due in order, at or after their instant, and never once taken
// out.
func TestOneEntryPerItemInOrder(t *testing.T) {
	t0 := time.Now()
	var q Queue[*item]
	items := make([]*item, 50)
	for i := range items {
		items[i] = new(item)
	}
	r := rand.New(rand.NewPCG(1, 2))
	want := map[*item]time.Time{}
	for range 10000 {
		it := items[r.IntN(len(items))]
		at := t0.Add(time.Duration(r.IntN(1000)) * time.Millisecond)
		if r.IntN(10) == 0 {
			at = time.Time{} // no deadline any more
			delete(want, it)
		} else {
			want[it] = at
		}
		q.Set(it, at)
		if q.Len() != len(want) {
			t.Fatalf("%d entries for %d items with a deadline", q.Len(), len(want))
		}
		if got := it.slot.At(); !got.Equal(at) {
			t.Fatalf("slot says %v, set to %v", got, at)
		}
	}
	if _, ok := q.Due(t0.Add(-time.Nanosecond)); ok {
		t.Fatalf("a deadline came due before its instant")
	}
	last := time.Time{}
	for it, ok := q.Due(t0.Add(time.Hour)); ok; it, ok = q.Due(t0.Add(time.Hour)) {
		at, queued := want[it]
		if !queued {
			t.Fatal("an item whose deadline was taken away came due")
		}
		if at.Before(last) {
			t.Fatalf("came due out of order: %v after %v", at.Sub(t0), last.Sub(t0))
		}
		if !it.slot.At().IsZero() {
			t.Fatal("an item taken out still shows a deadline")
		}
		last = at
		delete(want, it)
	}
	if len(want) != 0 {
		t.Fatalf("%d deadlines never came due", len(want))
	}
	if !q.Next().IsZero() {
		t.Fatal("an empty queue has a next deadline")
	}
}

// Next is always the earliest deadline queued.
func TestNextIsEarliest(t *testing.T) {
	t0 := time.Now()
	var q Queue[*item]
	a, b, c := new(item), new(item), new(item)
	q.Set(a, t0.Add(3*time.Second))
	q.Set(b, t0.Add(1*time.Second))
	q.Set(c, t0.Add(2*time.Second))
	if got := q.Next(); !got.Equal(t0.Add(time.Second)) {
		t.Fatalf("next %v, want 1s", got.Sub(t0))
	}
	q.Set(b, t0.Add(5*time.Second)) // moved later
	if got := q.Next(); !got.Equal(t0.Add(2 * time.Second)) {
		t.Fatalf("after moving the first later, next %v, want 2s", got.Sub(t0))
	}
	q.Set(c, time.Time{}) // taken out
	if got, ok := q.Due(t0.Add(4 * time.Second)); !ok || got != a {
		t.Fatalf("due at 4s: %v %v, want a", got, ok)
	}
	if _, ok := q.Due(t0.Add(4 * time.Second)); ok {
		t.Fatal("b came due at 4s, set for 5s")
	}
}
