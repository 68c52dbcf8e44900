package msg

// Partial holds the start of a frame that a non-blocking read left
// incomplete, in a buffer borrowed from a Pool only while it is needed. An
// event loop keeps one Partial per connection and reads every connection
// into one shared buffer, so a connection between frames holds no buffer at
// all. The zero value holds nothing.
type Partial struct {
	f *Frame
	n int
}

// Len is how many bytes of a frame are held; zero between frames.
func (p *Partial) Len() int { return p.n }

// Unread copies the bytes held to the start of buf, which must hold a
// frame, and returns how many; the next read goes after them.
func (p *Partial) Unread(buf []byte) int {
	if p.n > 0 {
		copy(buf, p.f[:p.n])
	}
	return p.n
}

// Keep holds rest, what is left after the whole frames, until the rest of
// its frame arrives. An empty rest gives the buffer back to pool.
func (p *Partial) Keep(rest []byte, pool *Pool) {
	if len(rest) == 0 {
		p.Release(pool)
		return
	}
	if p.f == nil {
		p.f = pool.get()
	}
	p.n = copy(p.f[:], rest)
}

// Release drops what is held and gives the buffer back to pool.
func (p *Partial) Release(pool *Pool) {
	if p.f != nil {
		pool.spare = append(pool.spare, p.f)
	}
	p.f, p.n = nil, 0
}

// Pool lends Partial its buffers. It keeps those given back, as many as
// were ever lent at once, for reuse. The zero value is ready; it belongs to
// one goroutine.
type Pool struct{ spare []*Frame }

func (pool *Pool) get() *Frame {
	if k := len(pool.spare); k > 0 {
		f := pool.spare[k-1]
		pool.spare = pool.spare[:k-1]
		return f
	}
	return new(Frame)
}
