package region

import (
	"crypto/x509"
	"encoding/json"
	"log/slog"
	"net/http"
	"slices"
	"strings"

	"github.com/kmsd/kmsd/internal/kms"
)

// Handler serves the peer protocol to the regions in peers. A request
// without a verified client certificate naming one of them is 403.
func Handler(svc *kms.Service, peers []string, log *slog.Logger) http.Handler {
	h := &handler{svc: svc, peers: peers, log: log}
	mux := http.NewServeMux()
	mux.HandleFunc("GET "+prefix+"transport-key", h.transportKey)
	mux.HandleFunc("POST "+prefix+"replicas", h.createReplica)
	mux.HandleFunc("POST "+prefix+"primary", h.setPrimary)
	mux.HandleFunc("DELETE "+prefix+"replicas/{project}/{key}", h.deleteReplica)
	h.mux = mux
	return h
}

type handler struct {
	svc   *kms.Service
	peers []string
	log   *slog.Logger
	mux   *http.ServeMux
}

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	from, ok := h.caller(r)
	if !ok {
		writeJSON(w, http.StatusForbidden, wireError{Error: "forbidden", Message: "a peer region's client certificate is required"})
		return
	}
	r = r.WithContext(withRegion(r.Context(), from))
	h.mux.ServeHTTP(w, r)
}

// caller returns the peer region that the verified client certificate
// names.
func (h *handler) caller(r *http.Request) (string, bool) {
	if r.TLS == nil || len(r.TLS.VerifiedChains) == 0 || len(r.TLS.VerifiedChains[0]) == 0 {
		return "", false
	}
	return certRegion(r.TLS.VerifiedChains[0][0], h.peers)
}

// certRegion returns the region of names that cert names by its common
// name or a DNS name.
func certRegion(cert *x509.Certificate, names []string) (string, bool) {
	for _, n := range append([]string{cert.Subject.CommonName}, cert.DNSNames...) {
		if slices.Contains(names, n) {
			return n, true
		}
	}
	return "", false
}

func (h *handler) transportKey(w http.ResponseWriter, r *http.Request) {
	pub, err := h.svc.TransportPublicKey()
	if err != nil {
		h.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, transportKey{Region: h.svc.Regions()[0], PublicKey: pub})
}

func (h *handler) createReplica(w http.ResponseWriter, r *http.Request) {
	var rep kms.Replica
	if err := decode(r.Body, &rep); err != nil {
		writeJSON(w, http.StatusBadRequest, wireError{Error: "invalid_parameter", Message: err.Error()})
		return
	}
	res, err := h.svc.AcceptReplica(r.Context(), regionOf(r.Context()), rep)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, res)
}

func (h *handler) setPrimary(w http.ResponseWriter, r *http.Request) {
	var p kms.PrimaryUpdate
	if err := decode(r.Body, &p); err != nil {
		writeJSON(w, http.StatusBadRequest, wireError{Error: "invalid_parameter", Message: err.Error()})
		return
	}
	if err := h.svc.SetPrimaryRegion(r.Context(), regionOf(r.Context()), p); err != nil {
		h.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, struct{}{})
}

func (h *handler) deleteReplica(w http.ResponseWriter, r *http.Request) {
	if err := h.svc.DeleteReplica(r.Context(), regionOf(r.Context()), r.PathValue("project"), r.PathValue("key")); err != nil {
		h.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, struct{}{})
}

// fail answers a kms error of a known kind as a refusal and anything
// else as a logged 500 with no detail.
func (h *handler) fail(w http.ResponseWriter, r *http.Request, err error) {
	if kind, ok := kindOf(err); ok {
		writeJSON(w, http.StatusBadRequest, wireError{Error: kind, Message: err.Error()})
		return
	}
	h.log.ErrorContext(r.Context(), "peer request failed", "path", r.URL.Path, "region", regionOf(r.Context()), "err", err)
	writeJSON(w, http.StatusInternalServerError, wireError{Error: "internal", Message: "internal error"})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

// IsPeerPath reports whether path belongs to the peer protocol.
func IsPeerPath(path string) bool { return strings.HasPrefix(path, "/kmsd/peer/") }
