package console

import (
	"net/http"
	"time"

	"github.com/kmsd/kmsd/internal/audit"
)

// auditAction is the IAM action that shows the audit trail page. Huawei
// keeps traces in Cloud Trace Service, whose actions kmsd does not model;
// kmsd names its own (docs/console.md). KMS Administrator's kms:*:*
// allows it, KMS CMKReadOnlyAccess does not.
const auditAction = "kms:audit:list"

// auditPageSize is how many of the newest records the page shows.
const auditPageSize = 100

// auditRow is one record as the page shows it: no secret is in a record.
type auditRow struct {
	Time, Operation, User, Keys, Code, ErrorCode, RequestID, SourceIP, AuthorizedBy string
}

// auditPage shows the newest records of this node's audit trail that
// were served in the user's project; another project's records never
// appear.
func (h *Handler) auditPage(w http.ResponseWriter, r *http.Request, s *session) {
	if r.Method != http.MethodGet {
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	if h.cfg.AuditDir == "" {
		h.refuse(w, r, http.StatusNotFound, "the audit trail is off on this server (audit.mode: off)")
		return
	}
	if !s.allowed(auditAction) {
		h.refuse(w, r, http.StatusForbidden, "your policies do not allow "+auditAction)
		return
	}
	ring := make([]auditRow, 0, auditPageSize)
	next := 0
	err := audit.Read(h.cfg.AuditDir, func(_ uint64, rec audit.Record) error {
		if rec.ProjectID != s.principal.ProjectID {
			return nil
		}
		row := auditRow{
			Time:      time.Unix(0, rec.TimeNanos).UTC().Format("2006-01-02 15:04:05.000 UTC"),
			Operation: rec.TraceName, Code: rec.Code, ErrorCode: rec.ErrorCode,
			RequestID: rec.RequestID, SourceIP: rec.SourceIP, AuthorizedBy: rec.AuthorizedBy,
		}
		if rec.User != nil {
			row.User = rec.User.Name
		}
		for i, k := range rec.KeyIDs {
			if i > 0 {
				row.Keys += " "
			}
			row.Keys += k
		}
		if len(ring) < auditPageSize {
			ring = append(ring, row)
		} else {
			ring[next] = row
			next = (next + 1) % auditPageSize
		}
		return nil
	})
	// Newest first.
	rows := make([]auditRow, 0, len(ring))
	for i := len(ring) - 1; i >= 0; i-- {
		rows = append(rows, ring[(next+i)%len(ring)])
	}
	data := map[string]any{"Rows": rows, "Limit": auditPageSize}
	if err != nil {
		data["Err"] = "the audit trail could not be read: " + err.Error()
	}
	h.render(w, r, http.StatusOK, "audit", sessionData(s, data))
}
