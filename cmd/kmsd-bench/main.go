// Command kmsd-bench measures kmsd's hot paths against a bare baseline.
//
//	kmsd-bench baseline --listen 127.0.0.1:9090
//	    serves the bare handlers: /encrypt-data does only the JSON decoding,
//	    AES-256-GCM sealing and JSON encoding of an encrypt-data request;
//	    /sign only the JSON decoding, ECDSA P-256 signing and encoding of a
//	    sign request. No authentication, no storage.
//	kmsd-bench load --endpoint URL --op encrypt-data|sign [--baseline] ...
//	    drives one endpoint with signed requests (AK/SK like the SDK) from
//	    --concurrency workers for --duration, and prints requests per second
//	    and latency percentiles.
//
// scripts/perf.sh runs both against a dev server with the server pinned to
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
	"crypto/sha256"
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

	"github.com/kmsd/kmsd/internal/auth"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: kmsd-bench baseline|load [flags]")
		os.Exit(2)
	}
	var err error
	switch os.Args[1] {
	case "baseline":
		err = baseline(ctx, os.Args[2:])
	case "load":
		err = load(ctx, os.Args[2:], os.Stdout)
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
// ECDSA P-256 key: POST /encrypt-data and POST /sign.
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
// parses the answer with http.ReadResponse. Against kmsd the request is
// signed like the SDK signs it and signed again every --resign (the
// X-Sdk-Date stays valid for 15 minutes, auth.MaxClockSkew); the server
// verifies the signature in full on every request, so this only moves
// the client's signing cost, never the server's verification cost. The
// baseline gets the same requests, unsigned. The last line reports the
// generator's own CPU use (client_cpu, % of one core): near 100% means
// the generator, not the server, limited the run.
func load(ctx context.Context, args []string, out io.Writer) error {
	fs := flag.NewFlagSet("load", flag.ContinueOnError)
	endpoint := fs.String("endpoint", "http://127.0.0.1:8080", "kmsd or baseline endpoint")
	isBaseline := fs.Bool("baseline", false, "the endpoint is a baseline server (no signing, no project path)")
	op := fs.String("op", "encrypt-data", "encrypt-data or sign")
	keyID := fs.String("key-id", "", "key id (kmsd)")
	size := fs.Int("size", 1024, "encrypt-data plaintext bytes")
	conc := fs.Int("concurrency", 16, "concurrent workers, one connection each")
	dur := fs.Duration("duration", 10*time.Second, "how long to run (bounded to 10m)")
	resign := fs.Duration("resign", 5*time.Second, "how often each worker signs its request again (at most 10m)")
	ak := fs.String("ak", os.Getenv("CLOUD_SDK_AK"), "access key")
	sk := fs.String("sk", os.Getenv("CLOUD_SDK_SK"), "secret key")
	project := fs.String("project", os.Getenv("CLOUD_SDK_PROJECT_ID"), "project id")
	if err := fs.Parse(args); err != nil {
		return err
	}
	*dur = min(*dur, 10*time.Minute)
	if *resign <= 0 || *resign > 10*time.Minute {
		*resign = 10 * time.Minute
	}
	var body []byte
	switch *op {
	case "encrypt-data":
		body, _ = json.Marshal(map[string]string{"key_id": *keyID, "plain_text": strings.Repeat("k", *size)})
	case "sign":
		d := sha256.Sum256([]byte("kmsd-bench"))
		body, _ = json.Marshal(map[string]string{"key_id": *keyID, "message": base64.StdEncoding.EncodeToString(d[:]), "signing_algorithm": "ECDSA_SHA_256", "message_type": "DIGEST"})
	default:
		return fmt.Errorf("unknown op %q", *op)
	}
	body = append(body, '\n') // as the SDK's json.Encoder sends it
	target := *endpoint + "/" + *op
	if !*isBaseline {
		target = *endpoint + "/v1.0/" + *project + "/kms/" + *op
	}
	u, err := url.Parse(target)
	if err != nil {
		return err
	}
	// build returns the wire bytes of one request, signed at now.
	build := func(now time.Time) ([]byte, error) {
		req, err := http.NewRequest("POST", target, bytes.NewReader(body))
		if err != nil {
			return nil, err
		}
		req.Header.Set("Content-Type", "application/json;charset=UTF-8")
		req.Header.Set("User-Agent", "huaweicloud-usdk-go/3.0; kmsd-bench")
		if !*isBaseline {
			req.Header.Set("X-Project-Id", *project)
			if err := auth.SignRequest(req, body, auth.AlgHMACSHA256, *ak, *sk, now); err != nil {
				return nil, err
			}
		}
		var b bytes.Buffer
		if err := req.Write(&b); err != nil {
			return nil, err
		}
		return b.Bytes(), nil
	}
	if _, err := build(time.Now()); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, *dur)
	defer cancel()
	var ok, failed atomic.Int64
	lat := make([][]time.Duration, *conc)
	var wg sync.WaitGroup
	cpu0 := cpuTime()
	start := time.Now()
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
				if now := time.Now(); raw == nil || now.Sub(signedAt) >= *resign {
					var err error
					if raw, err = build(now); err != nil {
						failed.Add(1)
						return
					}
					signedAt = now
				}
				if conn == nil {
					var err error
					if conn, err = (&net.Dialer{}).DialContext(ctx, "tcp", u.Host); err != nil {
						if ctx.Err() == nil {
							failed.Add(1)
						}
						return
					}
					br = bufio.NewReaderSize(conn, 16<<10)
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
							failed.Add(1)
						}
						continue
					}
				}
				if status != 200 {
					failed.Add(1)
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
	pct := func(p float64) time.Duration {
		if len(all) == 0 {
			return 0
		}
		return all[int(float64(len(all)-1)*p)]
	}
	fmt.Fprintf(out, "op=%s endpoint=%s ok=%d failed=%d rps=%.0f p50=%s p99=%s client_cpu=%.0f%%\n",
		*op, *endpoint, ok.Load(), failed.Load(), float64(ok.Load())/elapsed.Seconds(), pct(0.50), pct(0.99), clientCPU)
	if ok.Load() == 0 {
		return errors.New("no request succeeded")
	}
	return nil
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
