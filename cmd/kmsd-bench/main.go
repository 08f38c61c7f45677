// Command kmsd-bench is kmsd's load generator, and the bare baselines it
// is measured against.
//
//	kmsd-bench baseline --listen 127.0.0.1:9090
//	    serves the bare handlers: /encrypt-data does only the JSON decoding,
//	    AES-256-GCM sealing and JSON encoding of an encrypt-data request;
//	    /sign only the JSON decoding, ECDSA P-256 signing and encoding of a
//	    sign request; GET /user-instances answers a constant JSON body. No
//	    authentication, no storage.
//	kmsd-bench load --endpoint URL --op OP [--baseline] [--concurrency N] ...
//	    drives one endpoint with signed requests (AK/SK like the SDK) from
//	    --concurrency workers (clients) for --duration, and prints requests
//	    per second, p50/p99/p999 latency and the failures by status. OP is
//	    encrypt-data, decrypt-data, sign, verify, create-datakey,
//	    user-instances, list-keys (--limit, --marker) or create-key.
//	kmsd-bench prepare --data DIR --project ID --keys N
//	    adds N keys to a project directly through the store, in large
//	    transactions (list-keys and user-instances at a given key count).
//
// scripts/perf.sh runs them against a dev server with the server pinned to
// one core and the load generator to the other.
package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: kmsd-bench baseline|load|prepare [flags]")
		os.Exit(2)
	}
	var err error
	switch os.Args[1] {
	case "baseline":
		err = baseline(ctx, os.Args[2:])
	case "load":
		err = load(ctx, os.Args[2:], os.Stdout)
	case "prepare":
		err = prepare(ctx, os.Args[2:], os.Stdout)
	default:
		err = fmt.Errorf("unknown command %q", os.Args[1])
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "kmsd-bench:", err)
		os.Exit(1)
	}
}

// baseline serves the bare handlers until ctx ends.
func baseline(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("baseline", flag.ContinueOnError)
	listen := fs.String("listen", "127.0.0.1:9090", "listen address")
	if err := fs.Parse(args); err != nil {
		return err
	}
	handler, err := baselineHandler()
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		return err
	}
	fmt.Printf("baseline listening on http://%s\n", ln.Addr())
	srv := &http.Server{Handler: handler, ReadHeaderTimeout: 10 * time.Second}
	go func() { <-ctx.Done(); srv.Close() }()
	if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// baselineHandler returns the bare handlers, with a fresh AES-256 key and
// ECDSA P-256 key: POST /encrypt-data, POST /sign and GET /user-instances
// (constant JSON).
func baselineHandler() (http.Handler, error) {
	key := make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		return nil, err
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	ecKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	mux := http.NewServeMux()
	// user-instances answers a constant JSON body: the floor of any
	// request that reads one counter.
	mux.HandleFunc("GET /user-instances", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, map[string]int{"instance_num": 0})
	})
	mux.HandleFunc("POST /encrypt-data", func(w http.ResponseWriter, r *http.Request) {
		var req struct {
			KeyID     string `json:"key_id"`
			PlainText string `json:"plain_text"`
		}
		body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
		if err != nil || json.Unmarshal(body, &req) != nil {
			http.Error(w, "bad request", 400)
			return
		}
		nonce := make([]byte, aead.NonceSize(), aead.NonceSize()+len(req.PlainText)+aead.Overhead())
		_, _ = rand.Read(nonce)
		ct := aead.Seal(nonce, nonce, []byte(req.PlainText), nil)
		writeJSON(w, map[string]string{"key_id": req.KeyID, "cipher_text": base64.StdEncoding.EncodeToString(ct)})
	})
	mux.HandleFunc("POST /sign", func(w http.ResponseWriter, r *http.Request) {
		var req struct {
			KeyID            string `json:"key_id"`
			Message          string `json:"message"`
			SigningAlgorithm string `json:"signing_algorithm"`
			MessageType      string `json:"message_type"`
		}
		body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
		if err != nil || json.Unmarshal(body, &req) != nil {
			http.Error(w, "bad request", 400)
			return
		}
		digest, err := base64.StdEncoding.DecodeString(req.Message)
		if err != nil {
			http.Error(w, "bad request", 400)
			return
		}
		sig, err := ecdsa.SignASN1(rand.Reader, ecKey, digest)
		if err != nil {
			http.Error(w, "sign", 500)
			return
		}
		writeJSON(w, map[string]string{"key_id": req.KeyID, "signature": base64.StdEncoding.EncodeToString(sig)})
	})
	return mux, nil
}

func writeJSON(w http.ResponseWriter, v any) {
	b, _ := json.Marshal(v)
	w.Header().Set("Content-Type", "application/json;charset=UTF-8")
	_, _ = w.Write(b)
}

// load drives one operation and reports its throughput.
//
// The generator must stay cheap, so that its core is never the bottleneck
// and the server's core decides the figures: each worker keeps one
// keep-alive connection and writes a request it built in advance, and
// parses the answer with a minimal parser. Against kmsd the request is
// signed like the SDK signs it and signed again every --resign (the
// X-Sdk-Date stays valid for 15 minutes, auth.MaxClockSkew); the server
// verifies the signature in full on every request, so this only moves
// the client's signing cost, never the server's verification cost.
// create-key sends a new alias, so a newly signed request, every time.
// The baseline gets the same requests, unsigned. The last line reports
// requests per second, latency percentiles, the failed requests by status
// and the generator's own CPU use (client_cpu, % of one core): near 100%
// means the generator, not the server, limited the run. On a terminal a
// progress bar runs on stderr.
func load(ctx context.Context, args []string, out io.Writer) error {
	fs := flag.NewFlagSet("load", flag.ContinueOnError)
	var p loadParams
	fs.StringVar(&p.endpoint, "endpoint", "http://127.0.0.1:8080", "kmsd or baseline endpoint")
	fs.BoolVar(&p.baseline, "baseline", false, "the endpoint is a baseline server (no signing, no project path)")
	fs.StringVar(&p.op, "op", "encrypt-data", strings.Join(ops, ", "))
	fs.StringVar(&p.keyID, "key-id", "", "key id (kmsd): AES_256 for encrypt-data, decrypt-data and create-datakey, EC_P256 for sign and verify")
	fs.IntVar(&p.size, "size", 1024, "encrypt-data and decrypt-data plaintext bytes")
	fs.StringVar(&p.marker, "marker", "", "list-keys marker (the offset of the page)")
	fs.IntVar(&p.limit, "limit", 10, "list-keys page size")
	conc := fs.Int("concurrency", 16, "concurrent workers (clients), one connection each")
	dur := fs.Duration("duration", 10*time.Second, "how long to run (bounded to 10m)")
	resign := fs.Duration("resign", 5*time.Second, "how often each worker signs its request again (at most 10m)")
	progress := fs.Bool("progress", isTerminal(os.Stderr), "show a progress bar on stderr (default: when stderr is a terminal)")
	fs.StringVar(&p.ak, "ak", os.Getenv("CLOUD_SDK_AK"), "access key")
	fs.StringVar(&p.sk, "sk", os.Getenv("CLOUD_SDK_SK"), "secret key")
	fs.StringVar(&p.project, "project", os.Getenv("CLOUD_SDK_PROJECT_ID"), "project id")
	if err := fs.Parse(args); err != nil {
		return err
	}
	*dur = min(*dur, 10*time.Minute)
	if *resign <= 0 || *resign > 10*time.Minute {
		*resign = 10 * time.Minute
	}
	wl, err := newWorkload(p)
	if err != nil {
		return err
	}
	u, err := url.Parse(wl.target(p))
	if err != nil {
		return err
	}
	if _, err := wl.request(p, wl.body(0), time.Now()); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, *dur)
	defer cancel()
	var ok, failed, seq atomic.Int64
	var statusMu sync.Mutex
	byStatus := map[string]int64{} // failures by status, or "transport"
	fail := func(why string) {
		failed.Add(1)
		statusMu.Lock()
		byStatus[why]++
		statusMu.Unlock()
	}
	lat := make([][]time.Duration, *conc)
	var wg sync.WaitGroup
	cpu0 := cpuTime()
	start := time.Now()
	if *progress {
		stop := showProgress(os.Stderr, start, *dur, &ok, &failed)
		defer stop()
	}
	for w := range *conc {
		wg.Add(1)
		go func() {
			defer wg.Done()
			lat[w] = make([]time.Duration, 0, 1<<16)
			var conn net.Conn
			var br *bufio.Reader
			var raw []byte
			var signedAt time.Time
			defer func() {
				if conn != nil {
					conn.Close()
				}
			}()
			for ctx.Err() == nil {
				if now := time.Now(); raw == nil || wl.fresh || now.Sub(signedAt) >= *resign {
					var err error
					if raw, err = wl.request(p, wl.body(seq.Add(1)), now); err != nil {
						fail("build")
						return
					}
					signedAt = now
				}
				if conn == nil {
					var err error
					if conn, err = (&net.Dialer{}).DialContext(ctx, "tcp", u.Host); err != nil {
						if ctx.Err() == nil {
							fail("dial")
						}
						return
					}
					br = bufio.NewReaderSize(conn, 64<<10)
					c := conn
					stop := context.AfterFunc(ctx, func() { c.SetDeadline(time.Now()) })
					defer stop()
				}
				t0 := time.Now()
				status, keepAlive, err := roundTrip(conn, br, raw)
				if err != nil || !keepAlive {
					conn.Close()
					conn = nil
					if err != nil {
						if ctx.Err() == nil {
							fail("transport")
						}
						continue
					}
				}
				if status != 200 {
					fail(strconv.Itoa(status))
					continue
				}
				ok.Add(1)
				lat[w] = append(lat[w], time.Since(t0))
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	clientCPU := (cpuTime() - cpu0).Seconds() / elapsed.Seconds() * 100
	all := slices.Concat(lat...)
	slices.Sort(all)
	pct := func(q float64) time.Duration {
		if len(all) == 0 {
			return 0
		}
		return all[int(float64(len(all)-1)*q)]
	}
	var errs []string
	for why, n := range byStatus {
		errs = append(errs, fmt.Sprintf("%s:%d", why, n))
	}
	slices.Sort(errs)
	errList := strings.Join(errs, ",")
	if errList == "" {
		errList = "none"
	}
	fmt.Fprintf(out, "op=%s endpoint=%s concurrency=%d ok=%d failed=%d rps=%.0f p50=%s p99=%s p999=%s errors=%s client_cpu=%.0f%%\n",
		p.op, p.endpoint, *conc, ok.Load(), failed.Load(), float64(ok.Load())/elapsed.Seconds(),
		pct(0.50), pct(0.99), pct(0.999), errList, clientCPU)
	if ok.Load() == 0 {
		return errors.New("no request succeeded")
	}
	return nil
}

// isTerminal reports whether f is a character device.
func isTerminal(f *os.File) bool {
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// showProgress draws a progress bar of a run of dur on w every 200 ms
// until the returned function is called, which clears it.
func showProgress(w io.Writer, start time.Time, dur time.Duration, ok, failed *atomic.Int64) func() {
	done := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		t := time.NewTicker(200 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-done:
				fmt.Fprint(w, "\r\033[K")
				return
			case <-t.C:
			}
			el := time.Since(start)
			frac := min(1, el.Seconds()/dur.Seconds())
			const width = 30
			bar := strings.Repeat("#", int(frac*width)) + strings.Repeat(" ", width-int(frac*width))
			fmt.Fprintf(w, "\r[%s] %3.0f%% %8d ok %6d failed %8.0f req/s", bar, frac*100,
				ok.Load(), failed.Load(), float64(ok.Load())/el.Seconds())
		}
	}()
	return func() { close(done); <-finished }
}

// roundTrip writes one request on a keep-alive connection and reads the
// whole answer (Content-Length or chunked); it returns the status code and
// whether the connection stays open. It parses only what it needs, so that
// the generator spends its core on requests, not on parsing headers.
func roundTrip(conn net.Conn, br *bufio.Reader, raw []byte) (status int, keepAlive bool, err error) {
	if _, err := conn.Write(raw); err != nil {
		return 0, false, err
	}
	line, err := br.ReadSlice('\n')
	if err != nil {
		return 0, false, err
	}
	// "HTTP/1.1 200 OK\r\n"
	if len(line) < 12 || !bytes.HasPrefix(line, []byte("HTTP/1.")) {
		return 0, false, fmt.Errorf("malformed status line %q", line)
	}
	if status, err = strconv.Atoi(string(line[9:12])); err != nil {
		return 0, false, fmt.Errorf("malformed status line %q", line)
	}
	length, chunked, keepAlive := -1, false, line[7] == '1'
	for {
		line, err = br.ReadSlice('\n')
		if err != nil {
			return 0, false, err
		}
		line = bytes.TrimRight(line, "\r\n")
		if len(line) == 0 {
			break
		}
		name, value, _ := bytes.Cut(line, []byte(":"))
		value = bytes.TrimSpace(value)
		switch {
		case bytes.EqualFold(name, []byte("Content-Length")):
			if length, err = strconv.Atoi(string(value)); err != nil {
				return 0, false, fmt.Errorf("malformed Content-Length %q", value)
			}
		case bytes.EqualFold(name, []byte("Transfer-Encoding")):
			chunked = bytes.EqualFold(value, []byte("chunked"))
		case bytes.EqualFold(name, []byte("Connection")):
			keepAlive = !bytes.EqualFold(value, []byte("close"))
		}
	}
	switch {
	case chunked:
		for {
			line, err = br.ReadSlice('\n')
			if err != nil {
				return 0, false, err
			}
			size, _, _ := bytes.Cut(bytes.TrimRight(line, "\r\n"), []byte(";"))
			n, err := strconv.ParseInt(string(size), 16, 64)
			if err != nil {
				return 0, false, fmt.Errorf("malformed chunk size %q", size)
			}
			if n == 0 {
				break
			}
			if _, err := br.Discard(int(n) + 2); err != nil {
				return 0, false, err
			}
		}
		for { // trailers, then the empty line
			line, err = br.ReadSlice('\n')
			if err != nil {
				return 0, false, err
			}
			if len(bytes.TrimRight(line, "\r\n")) == 0 {
				break
			}
		}
	case length >= 0:
		if _, err := br.Discard(length); err != nil {
			return 0, false, err
		}
	default:
		return 0, false, errors.New("answer with neither Content-Length nor chunked encoding")
	}
	return status, keepAlive, nil
}

// cpuTime returns the user and system CPU time this process has used.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
