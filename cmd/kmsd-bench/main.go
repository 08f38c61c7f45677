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
	"os"
	"os/signal"
	"slices"
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
	key := make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		return err
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return err
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return err
	}
	ecKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return err
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
	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		return err
	}
	fmt.Printf("baseline listening on http://%s\n", ln.Addr())
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() { <-ctx.Done(); srv.Close() }()
	if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

func writeJSON(w http.ResponseWriter, v any) {
	b, _ := json.Marshal(v)
	w.Header().Set("Content-Type", "application/json;charset=UTF-8")
	_, _ = w.Write(b)
}

// load drives one operation and reports its throughput.
func load(ctx context.Context, args []string, out io.Writer) error {
	fs := flag.NewFlagSet("load", flag.ContinueOnError)
	endpoint := fs.String("endpoint", "http://127.0.0.1:8080", "kmsd or baseline endpoint")
	isBaseline := fs.Bool("baseline", false, "the endpoint is a baseline server (no signing, no project path)")
	op := fs.String("op", "encrypt-data", "encrypt-data or sign")
	keyID := fs.String("key-id", "", "key id (kmsd)")
	size := fs.Int("size", 1024, "encrypt-data plaintext bytes")
	conc := fs.Int("concurrency", 16, "concurrent workers")
	dur := fs.Duration("duration", 10*time.Second, "how long to run (bounded to 10m)")
	ak := fs.String("ak", os.Getenv("CLOUD_SDK_AK"), "access key")
	sk := fs.String("sk", os.Getenv("CLOUD_SDK_SK"), "secret key")
	project := fs.String("project", os.Getenv("CLOUD_SDK_PROJECT_ID"), "project id")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *dur > 10*time.Minute {
		*dur = 10 * time.Minute
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
	url := *endpoint + "/" + *op
	if !*isBaseline {
		url = *endpoint + "/v1.0/" + *project + "/kms/" + *op
	}
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: *conc, MaxConnsPerHost: *conc}}
	ctx, cancel := context.WithTimeout(ctx, *dur)
	defer cancel()
	var ok, failed atomic.Int64
	lat := make([][]time.Duration, *conc)
	var wg sync.WaitGroup
	start := time.Now()
	for w := range *conc {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				req, _ := http.NewRequestWithContext(ctx, "POST", url, bytes.NewReader(body))
				req.Header.Set("Content-Type", "application/json;charset=UTF-8")
				if !*isBaseline {
					req.Header.Set("User-Agent", "huaweicloud-usdk-go/3.0; kmsd-bench")
					req.Header.Set("X-Project-Id", *project)
					if err := auth.SignRequest(req, body, auth.AlgHMACSHA256, *ak, *sk, time.Now()); err != nil {
						failed.Add(1)
						return
					}
				}
				t0 := time.Now()
				resp, err := client.Do(req)
				if err != nil {
					if ctx.Err() == nil {
						failed.Add(1)
					}
					continue
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != 200 {
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
	all := slices.Concat(lat...)
	slices.Sort(all)
	pct := func(p float64) time.Duration {
		if len(all) == 0 {
			return 0
		}
		return all[int(float64(len(all)-1)*p)]
	}
	fmt.Fprintf(out, "op=%s endpoint=%s ok=%d failed=%d rps=%.0f p50=%s p99=%s\n",
		*op, *endpoint, ok.Load(), failed.Load(), float64(ok.Load())/elapsed.Seconds(), pct(0.50), pct(0.99))
	if ok.Load() == 0 {
		return errors.New("no request succeeded")
	}
	return nil
}
