package console_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/kmsd/kmsd/internal/config"
)

// TestAuditPage checks the audit trail page: an administrator sees the
// records of the requests the console made for it (audit.mode required,
// so each is durable before its answer), a read-only user is refused and
// shown no link, and another account's administrator sees none of the
// first project's records.
func TestAuditPage(t *testing.T) {
	base, _, ids := devServer(t, false, func(c *config.Config) { c.Audit.Mode = "required" })
	admin := newBrowser(t, base)
	admin.signIn(ids.AdminName, ids.AdminPassword)
	id := admin.createKey("audited")

	resp, page := admin.get("/console/audit")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /console/audit as the administrator: status %d:\n%s", resp.StatusCode, page)
	}
	if !strings.Contains(page, `<td class="op">CreateKey</td>`) || !strings.Contains(page, id) {
		t.Errorf("the audit page lacks the CreateKey record of key %s:\n%s", id, page)
	}
	if _, keys := admin.get("/console/keys"); !strings.Contains(keys, `id="nav-audit"`) {
		t.Error("the administrator's pages have no link to the audit trail")
	}

	reader := newBrowser(t, base)
	reader.signIn(ids.ReaderName, ids.ReaderPassword)
	if resp, body := reader.get("/console/audit"); resp.StatusCode != http.StatusForbidden {
		t.Errorf("GET /console/audit as the read-only user: status %d, want 403:\n%s", resp.StatusCode, body)
	}
	if _, keys := reader.get("/console/keys"); strings.Contains(keys, `id="nav-audit"`) {
		t.Error("the read-only user is shown a link to the audit trail")
	}

	other := newBrowser(t, base)
	tok := other.csrf("/console/signin")
	if resp, body := other.post("/console/signin", base, url.Values{"csrf": {tok}, "account": {"dev2"}, "user": {ids.Admin2Name}, "password": {ids.Admin2Password}, "project": {config.DefaultRegion}}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("sign-in as %s: status %d:\n%s", ids.Admin2Name, resp.StatusCode, body)
	}
	if resp, body := other.get("/console/audit"); resp.StatusCode != http.StatusOK || strings.Contains(body, id) {
		t.Errorf("another account's audit page: status %d, want 200 without key %s:\n%s", resp.StatusCode, id, body)
	}
}
