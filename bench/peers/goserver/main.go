// goserver: the smallest SSE fan-out server Go's standard library makes, to measure Dashboard's
// stream against (see ../README.md).
//
//	GET  /dashboard/stream  text/event-stream: every published message, ": heartbeat" comments
//	POST /publish           the body (at most 64 KiB) goes to every open stream as one event
//	GET  /health            {"status":"ok","clients":N,"dropped":M}
//
// Each stream has a buffered channel of its own; publishing never waits for a stream: one whose
// buffer is full misses the message, and the miss is counted in "dropped".
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

const maxMessageBytes = 64 << 10

// hub holds the open streams' channels.
type hub struct {
	mu      sync.RWMutex
	streams map[chan []byte]struct{}
	lastID  atomic.Uint64
	dropped atomic.Uint64
}

func newHub() *hub {
	return &hub{streams: make(map[chan []byte]struct{})}
}

func (h *hub) join(buffer int) chan []byte {
	messages := make(chan []byte, buffer)
	h.mu.Lock()
	h.streams[messages] = struct{}{}
	h.mu.Unlock()
	return messages
}

func (h *hub) leave(messages chan []byte) {
	h.mu.Lock()
	delete(h.streams, messages)
	h.mu.Unlock()
}

func (h *hub) open() int {
	h.mu.RLock()
	defer h.mu.RUnlock()
	return len(h.streams)
}

// publish hands one event to every stream whose buffer has room; it returns the event's id
// and how many streams got it.
func (h *hub) publish(data []byte) (id uint64, delivered, missed int) {
	id = h.lastID.Add(1)
	event := sseEvent(id, data)
	h.mu.RLock()
	defer h.mu.RUnlock()
	for messages := range h.streams {
		select {
		case messages <- event:
			delivered++
		default:
			missed++
		}
	}
	h.dropped.Add(uint64(missed))
	return id, delivered, missed
}

// sseEvent writes an event with id; each line of data becomes a "data:" line of its own.
func sseEvent(id uint64, data []byte) []byte {
	var event strings.Builder
	fmt.Fprintf(&event, "id: %d\n", id)
	for _, line := range strings.Split(strings.TrimRight(string(data), "\r\n"), "\n") {
		event.WriteString("data: " + strings.TrimRight(line, "\r") + "\n")
	}
	event.WriteString("\n")
	return []byte(event.String())
}

// serveStream writes the stream until the client goes (its request's context ends) or a
// write fails.
func (h *hub) serveStream(heartbeat time.Duration, buffer int) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		flusher, ok := w.(http.Flusher)
		if !ok {
			http.Error(w, "streaming unsupported", http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "text/event-stream")
		w.Header().Set("Cache-Control", "no-cache")
		messages := h.join(buffer)
		defer h.leave(messages)
		ticks := time.NewTicker(heartbeat)
		defer ticks.Stop()
		send := func(frame []byte) bool {
			_, err := w.Write(frame)
			flusher.Flush()
			return err == nil
		}
		if !send([]byte(": connected\n\n")) {
			return
		}
		for {
			var frame []byte
			select {
			case <-r.Context().Done():
				return
			case frame = <-messages:
			case <-ticks.C:
				frame = []byte(": heartbeat\n\n")
			}
			if !send(frame) {
				return
			}
		}
	}
}

func (h *hub) servePublish(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		http.Error(w, "POST only", http.StatusMethodNotAllowed)
		return
	}
	data, err := io.ReadAll(io.LimitReader(r.Body, maxMessageBytes))
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	id, delivered, missed := h.publish(data)
	writeJSON(w, map[string]any{"id": id, "sent": delivered, "dropped": missed})
}

func (h *hub) serveHealth(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, map[string]any{"status": "ok", "clients": h.open(), "dropped": h.dropped.Load()})
}

func writeJSON(w http.ResponseWriter, body any) {
	w.Header().Set("Content-Type", "application/json")
	if err := json.NewEncoder(w).Encode(body); err != nil {
		log.Printf("writing a response: %v", err)
	}
}

func main() {
	addr := flag.String("addr", "127.0.0.1:8081", "address to listen on")
	heartbeat := flag.Duration("heartbeat", 30*time.Second, "time between heartbeat comments")
	buffer := flag.Int("buffer", 64, "messages a stream may fall behind before it misses some")
	flag.Parse()

	h := newHub()
	routes := http.NewServeMux()
	routes.HandleFunc("/dashboard/stream", h.serveStream(*heartbeat, *buffer))
	routes.HandleFunc("/publish", h.servePublish)
	routes.HandleFunc("/health", h.serveHealth)
	log.Printf("goserver listening on %s", *addr)
	log.Fatal(http.ListenAndServe(*addr, routes))
}
