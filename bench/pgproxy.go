package main

import (
	"bufio"
	"bytes"
	"cmp"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"
)

// countingProxy is a TCP proxy in front of PostgreSQL that counts the
// statements clients send, by reading the frontend protocol: a simple Query
// message is one statement, an extended-protocol Execute is one statement
// (classified by the text of the statement it executes). It counts any
// driver without a hook in it, which is how tickflow's store (lib/pq
// through sqlx, no custom driver option) is counted. Timed runs do not go
// through it: the counts come from a separate, untimed pass.
type countingProxy struct {
	ln       net.Listener
	upstream string
	c        *Counter
	wg       sync.WaitGroup

	mu    sync.Mutex
	conns map[net.Conn]struct{}
	// spent is the client-observed time per statement label, from the
	// request (Query or Sync) to the server's ReadyForQuery.
	spent map[string]*StatementTime
}

// StatementTime is the time the statements of one label took, as seen from
// the client side of the proxy (server work plus the round trip).
type StatementTime struct {
	Label   string  `json:"label"`
	Count   int     `json:"count"`
	Seconds float64 `json:"seconds"`
}

// pending is a request waiting for the server's ReadyForQuery.
type pending struct {
	label string
	start time.Time
}

// connState is what the two directions of one connection share.
type connState struct {
	mu    sync.Mutex
	queue []pending
	// label of the extended-protocol statement executed since the last Sync.
	label string
}

// startCountingProxy listens on 127.0.0.1 and forwards to the host of
// dbURL; it returns the proxy and dbURL rewritten to go through it (without
// TLS, which it cannot read).
func startCountingProxy(dbURL string, c *Counter) (*countingProxy, string, error) {
	u, err := url.Parse(dbURL)
	if err != nil {
		return nil, "", fmt.Errorf("proxy: parse database url: %w", err)
	}
	host := u.Host
	if u.Port() == "" {
		host = net.JoinHostPort(u.Hostname(), "5432")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, "", fmt.Errorf("proxy: listen: %w", err)
	}
	p := &countingProxy{ln: ln, upstream: host, c: c, conns: map[net.Conn]struct{}{}, spent: map[string]*StatementTime{}}
	p.wg.Add(1)
	go p.serve()
	u.Host = ln.Addr().String()
	q := u.Query()
	q.Set("sslmode", "disable")
	u.RawQuery = q.Encode()
	return p, u.String(), nil
}

// Close stops the proxy and cuts its connections.
func (p *countingProxy) Close() error {
	err := p.ln.Close()
	p.mu.Lock()
	for c := range p.conns {
		_ = c.Close()
	}
	p.mu.Unlock()
	p.wg.Wait()
	return err
}

func (p *countingProxy) track(c net.Conn, add bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if add {
		p.conns[c] = struct{}{}
	} else {
		delete(p.conns, c)
	}
}

func (p *countingProxy) serve() {
	defer p.wg.Done()
	for {
		client, err := p.ln.Accept()
		if err != nil {
			return
		}
		p.wg.Add(1)
		go func() {
			defer p.wg.Done()
			p.handle(client)
		}()
	}
}

func (p *countingProxy) handle(client net.Conn) {
	defer client.Close()
	server, err := net.Dial("tcp", p.upstream)
	if err != nil {
		return
	}
	defer server.Close()
	p.track(client, true)
	p.track(server, true)
	defer p.track(client, false)
	defer p.track(server, false)

	st := &connState{}
	done := make(chan struct{})
	go func() {
		_ = p.backend(bufio.NewReader(server), client, st)
		_ = client.Close()
		close(done)
	}()
	_ = p.frontend(bufio.NewReader(client), client, server, st)
	_ = server.Close()
	<-done
}

const (
	sslRequestCode = 80877103
	gssRequestCode = 80877104
)

// frontend relays the client's messages to the server, counting statements.
func (p *countingProxy) frontend(r *bufio.Reader, client, server net.Conn, st *connState) error {
	// Startup phase: refuse SSL/GSS encryption, relay the startup message.
	for {
		var hdr [8]byte
		if _, err := io.ReadFull(r, hdr[:]); err != nil {
			return err
		}
		n := int(binary.BigEndian.Uint32(hdr[:4]))
		code := binary.BigEndian.Uint32(hdr[4:])
		if n < 8 || n > 1<<20 {
			return errors.New("proxy: bad startup message")
		}
		if code == sslRequestCode || code == gssRequestCode {
			if _, err := client.Write([]byte{'N'}); err != nil {
				return err
			}
			continue
		}
		body := make([]byte, n-8)
		if _, err := io.ReadFull(r, body); err != nil {
			return err
		}
		if _, err := server.Write(append(hdr[:], body...)); err != nil {
			return err
		}
		break
	}
	prepared := map[string]string{} // statement name -> query
	portals := map[string]string{}  // portal name -> query
	w := bufio.NewWriter(server)
	for {
		var hdr [5]byte
		if _, err := io.ReadFull(r, hdr[:]); err != nil {
			return err
		}
		n := int(binary.BigEndian.Uint32(hdr[1:]))
		if n < 4 {
			return errors.New("proxy: bad message length")
		}
		body := make([]byte, n-4)
		if _, err := io.ReadFull(r, body); err != nil {
			return err
		}
		switch hdr[0] {
		case 'Q':
			q := cstring(body, 0)
			p.c.count(q)
			st.push(statementLabel(q))
		case 'P':
			name := cstring(body, 0)
			q := cstring(body, len(name)+1)
			prepared[name] = q
			st.mu.Lock()
			st.label = statementLabel(q) + " (parse)"
			st.mu.Unlock()
		case 'B':
			portal := cstring(body, 0)
			portals[portal] = prepared[cstring(body, len(portal)+1)]
		case 'E':
			q := portals[cstring(body, 0)]
			p.c.count(q)
			st.mu.Lock()
			st.label = statementLabel(q)
			st.mu.Unlock()
		case 'S':
			st.mu.Lock()
			label := st.label
			st.label = ""
			st.mu.Unlock()
			if label == "" {
				label = "(sync)"
			}
			st.push(label)
		}
		if _, err := w.Write(hdr[:]); err != nil {
			return err
		}
		if _, err := w.Write(body); err != nil {
			return err
		}
		// Flush at every message the server answers, and whenever nothing
		// more is buffered from the client.
		if r.Buffered() == 0 || hdr[0] == 'S' || hdr[0] == 'H' || hdr[0] == 'Q' {
			if err := w.Flush(); err != nil {
				return err
			}
		}
		if hdr[0] == 'X' {
			return w.Flush()
		}
	}
}

func (st *connState) push(label string) {
	st.mu.Lock()
	st.queue = append(st.queue, pending{label: label, start: time.Now()})
	st.mu.Unlock()
}

// backend relays the server's messages to the client; at every
// ReadyForQuery it charges the oldest pending request's time to its label.
func (p *countingProxy) backend(r *bufio.Reader, client net.Conn, st *connState) error {
	w := bufio.NewWriter(client)
	for {
		// The server's first reply to a refused SSL request is handled by
		// the frontend; from here every message is typed.
		var hdr [5]byte
		if _, err := io.ReadFull(r, hdr[:]); err != nil {
			_ = w.Flush()
			return err
		}
		n := int(binary.BigEndian.Uint32(hdr[1:]))
		if n < 4 {
			return errors.New("proxy: bad backend message length")
		}
		if _, err := w.Write(hdr[:]); err != nil {
			return err
		}
		if _, err := io.CopyN(w, r, int64(n-4)); err != nil {
			return err
		}
		if hdr[0] == 'Z' {
			st.mu.Lock()
			var done *pending
			if len(st.queue) > 0 {
				done = &st.queue[0]
				st.queue = st.queue[1:]
			}
			st.mu.Unlock()
			if done != nil {
				p.charge(done.label, time.Since(done.start))
			}
		}
		if r.Buffered() == 0 || hdr[0] == 'Z' {
			if err := w.Flush(); err != nil {
				return err
			}
		}
	}
}

func (p *countingProxy) charge(label string, d time.Duration) {
	p.mu.Lock()
	defer p.mu.Unlock()
	t := p.spent[label]
	if t == nil {
		t = &StatementTime{Label: label}
		p.spent[label] = t
	}
	t.Count++
	t.Seconds += d.Seconds()
}

// Spent returns the time per label so far, largest first.
func (p *countingProxy) Spent() []StatementTime {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := make([]StatementTime, 0, len(p.spent))
	for _, t := range p.spent {
		out = append(out, *t)
	}
	slices.SortFunc(out, func(a, b StatementTime) int { return cmp.Compare(b.Seconds, a.Seconds) })
	return out
}

// Reset forgets the times so far.
func (p *countingProxy) Reset() {
	p.mu.Lock()
	p.spent = map[string]*StatementTime{}
	p.mu.Unlock()
}

// statementLabel names a statement for the time breakdown: the name in a
// leading "-- Name:" comment (how sqlstore's files start), else its first
// keyword.
func statementLabel(q string) string {
	q = strings.TrimSpace(q)
	if rest, ok := strings.CutPrefix(q, "--"); ok {
		rest = strings.TrimSpace(rest)
		if i := strings.IndexAny(rest, ":(\n "); i > 0 {
			name := rest[:i]
			// "-- ClaimDue: insert every ..." names the step too.
			if rest[i] == ':' {
				if f := strings.Fields(rest[i+1:]); len(f) > 0 && !strings.Contains(f[0], "\n") {
					return name + " " + f[0]
				}
			}
			return name
		}
	}
	for strings.HasPrefix(q, "--") {
		if i := strings.IndexByte(q, '\n'); i >= 0 {
			q = strings.TrimSpace(q[i+1:])
		} else {
			return "(comment)"
		}
	}
	if f := strings.Fields(q); len(f) > 0 {
		if k := strings.ToUpper(strings.TrimRight(f[0], ";")); k != "" {
			return k
		}
	}
	return "(empty)"
}

// cstring reads the NUL-terminated string at off.
func cstring(b []byte, off int) string {
	if off >= len(b) {
		return ""
	}
	if i := bytes.IndexByte(b[off:], 0); i >= 0 {
		return string(b[off : off+i])
	}
	return string(b[off:])
}
