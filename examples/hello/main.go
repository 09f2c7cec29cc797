// Command hello is keel's example app: a small HTTP service that logs each
// request as one JSON line on stdout, with its request id, and its errors on
// stderr. `make demo` fuses it into an image, runs it under QEMU and follows
// its logs.
//
//	GET /          greets; GET /fail answers 500 and logs an error
//	X-Request-Id   is taken from the request, or made up
package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"net/http"
	"os"
	"os/signal"
	"sync"
	"syscall"
	"time"
)

var outMu sync.Mutex

// logJSON writes one event per line: keel ships each line as one event, and
// JSON lines keep their keys, so `{ $.requestId = "..." }` finds them.
func logJSON(fields map[string]any) {
	b, _ := json.Marshal(fields)
	outMu.Lock()
	defer outMu.Unlock()
	os.Stdout.Write(append(b, '\n'))
}

func logError(format string, args ...any) {
	outMu.Lock()
	defer outMu.Unlock()
	fmt.Fprintf(os.Stderr, format+"\n", args...)
}

func requestID(r *http.Request) string {
	if id := r.Header.Get("X-Request-Id"); id != "" && len(id) <= 64 {
		return id
	}
	var b [8]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

type recorder struct {
	http.ResponseWriter
	status int
}

func (r *recorder) WriteHeader(code int) { r.status = code; r.ResponseWriter.WriteHeader(code) }

func handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		name := r.URL.Query().Get("name")
		if name == "" {
			name = "world"
		}
		fmt.Fprintf(w, "hello, %s\n", name)
	})
	mux.HandleFunc("GET /fail", func(w http.ResponseWriter, r *http.Request) {
		logError("request %s: simulated failure: the database is on fire", w.Header().Get("X-Request-Id"))
		http.Error(w, "simulated failure", http.StatusInternalServerError)
	})
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		t0 := time.Now()
		id := requestID(r)
		w.Header().Set("X-Request-Id", id)
		rec := &recorder{ResponseWriter: w, status: http.StatusOK}
		mux.ServeHTTP(rec, r)
		level := "INFO"
		if rec.status >= 500 {
			level = "ERROR"
		}
		logJSON(map[string]any{"level": level, "requestId": id, "method": r.Method, "path": r.URL.Path,
			"status": rec.status, "ms": float64(time.Since(t0).Microseconds()) / 1000,
			"message": fmt.Sprintf("%s %s %d", r.Method, r.URL.Path, rec.status)})
	})
}

func main() {
	addr := flag.String("addr", ":8080", "listen `address`")
	flag.Parse()
	srv := &http.Server{Addr: *addr, Handler: handler(), ReadHeaderTimeout: 10 * time.Second}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	go func() {
		<-ctx.Done()
		logJSON(map[string]any{"level": "INFO", "message": "SIGTERM: finishing requests, then exiting"})
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(sctx)
	}()
	logJSON(map[string]any{"level": "INFO", "message": "hello listening on " + *addr})
	if err := srv.ListenAndServe(); err != nil && !errors.Is(err, http.ErrServerClosed) {
		logError("listen on %s: %v", *addr, err)
		os.Exit(1)
	}
	logJSON(map[string]any{"level": "INFO", "message": "bye"})
}
