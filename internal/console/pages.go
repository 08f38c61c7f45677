package console

import (
	"context"
	"errors"
	"html/template"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/kmsd/kmsd/internal/client"
)

// keyDetails is the part of the wire KeyDetails (reference kms-api.md §4)
// the console shows; every member travels as a string.
type keyDetails struct {
	KeyID                 string `json:"key_id"`
	KeyAlias              string `json:"key_alias"`
	KeySpec               string `json:"key_spec"`
	KeyUsage              string `json:"key_usage"`
	KeyDescription        string `json:"key_description"`
	CreationDate          string `json:"creation_date"`
	ScheduledDeletionDate string `json:"scheduled_deletion_date"`
	KeyState              string `json:"key_state"`
	DefaultKeyFlag        string `json:"default_key_flag"`
	Origin                string `json:"origin"`
	KeyRotationEnabled    string `json:"key_rotation_enabled"`
}

// stateNames names the key states (reference kms-api.md §4, key_state).
var stateNames = map[string]string{"1": "Pending activation", "2": "Enabled", "3": "Disabled", "4": "Pending deletion", "5": "Pending import", "7": "Frozen"}

// keySpecs are the specs the create form and the filter offer.
var keySpecs = []string{"AES_256", "SM4", "RSA_2048", "RSA_3072", "RSA_4096", "EC_P256", "EC_P384", "SECP256K1", "SM2", "HMAC_256", "HMAC_384", "HMAC_512", "HMAC_SM3"}

// quota is one row of ShowUserQuotas.
type quota struct {
	Type  string `json:"type"`
	Used  int    `json:"used"`
	Quota int    `json:"quota"`
}

// pageSize is the number of keys on one page of the key list, unless the
// query's limit (1–100) says otherwise.
const pageSize = 20

// overview is the instance count and the quotas, on every key list page.
type overview struct {
	InstanceNum int
	Quotas      []quota
	Err         error
}

func (h *Handler) overview(ctx context.Context, s *session) overview {
	var o overview
	var n struct {
		InstanceNum int `json:"instance_num"`
	}
	if err := h.call(ctx, s, http.MethodGet, "user-instances", nil, nil, &n); err != nil {
		o.Err = err
		return o
	}
	o.InstanceNum = n.InstanceNum
	var q struct {
		Quotas struct {
			Resources []quota `json:"resources"`
		} `json:"quotas"`
	}
	if err := h.call(ctx, s, http.MethodGet, "user-quotas", nil, nil, &q); err != nil {
		o.Err = err
		return o
	}
	o.Quotas = q.Quotas.Resources
	return o
}

// keysPage lists the project's keys, filtered by state and spec through
// ListKeys (marker paging), or by a tag through ListKmsByTags (offset
// paging; state and spec then filter that page).
func (h *Handler) keysPage(w http.ResponseWriter, r *http.Request, s *session) {
	if r.Method != http.MethodGet {
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	ctx := r.Context()
	q := r.URL.Query()
	state, spec, tag, marker := q.Get("state"), q.Get("spec"), q.Get("tag"), q.Get("marker")
	if marker == "" {
		marker = "0"
	}
	limit := pageSize
	if n, err := strconv.Atoi(q.Get("limit")); err == nil && n >= 1 && n <= 100 {
		limit = n
	}
	data := map[string]any{
		"Overview": h.overview(ctx, s), "State": state, "Spec": spec, "Tag": tag,
		"States": stateNames, "Specs": keySpecs, "CanCreate": s.allowed("kms:cmk:create"),
	}
	var keys []keyDetails
	var next string
	var total int
	var err error
	if tag != "" {
		keys, next, total, err = h.keysByTag(ctx, s, tag, marker, limit)
		var kept []keyDetails
		for _, k := range keys {
			if (state == "" || k.KeyState == state) && (spec == "" || k.KeySpec == spec) {
				kept = append(kept, k)
			}
		}
		keys = kept
	} else {
		body := map[string]any{"limit": strconv.Itoa(limit), "marker": marker}
		if state != "" {
			body["key_state"] = state
		}
		if spec != "" {
			body["key_spec"] = spec
		}
		var out struct {
			KeyDetails []keyDetails `json:"key_details"`
			NextMarker string       `json:"next_marker"`
			Truncated  string       `json:"truncated"`
			Total      int          `json:"total"`
		}
		err = h.call(ctx, s, http.MethodPost, "list-keys", nil, body, &out)
		keys, total = out.KeyDetails, out.Total
		if out.Truncated == "true" {
			next = out.NextMarker
		}
	}
	data["Keys"], data["Total"], data["Err"] = keys, total, err
	if next != "" {
		v := url.Values{"marker": {next}}
		for k, x := range map[string]string{"state": state, "spec": spec, "tag": tag, "limit": q.Get("limit")} {
			if x != "" {
				v.Set(k, x)
			}
		}
		data["Next"] = h.cfg.Path + "/keys?" + v.Encode()
	}
	if marker != "0" {
		v := url.Values{}
		for k, x := range map[string]string{"state": state, "spec": spec, "tag": tag, "limit": q.Get("limit")} {
			if x != "" {
				v.Set(k, x)
			}
		}
		data["First"] = h.cfg.Path + "/keys?" + v.Encode()
	}
	h.render(w, r, http.StatusOK, "keys", sessionData(s, data))
}

// keysByTag is one page of ListKmsByTags for a "key=value" (or "key")
// filter.
func (h *Handler) keysByTag(ctx context.Context, s *session, tag, offset string, limit int) ([]keyDetails, string, int, error) {
	k, v, hasValue := strings.Cut(tag, "=")
	t := map[string]any{"key": k, "values": []string{}}
	if hasValue {
		t["values"] = []string{v}
	}
	body := map[string]any{"action": "filter", "limit": strconv.Itoa(limit), "offset": offset, "tags": []any{t}}
	var out struct {
		Resources []struct {
			Detail keyDetails `json:"resource_detail"`
		} `json:"resources"`
		TotalCount int `json:"total_count"`
	}
	if err := h.call(ctx, s, http.MethodPost, "resource_instances/action", nil, body, &out); err != nil {
		return nil, "", 0, err
	}
	keys := make([]keyDetails, len(out.Resources))
	for i, r := range out.Resources {
		keys[i] = r.Detail
	}
	next := ""
	if off, _ := strconv.Atoi(offset); off+len(keys) < out.TotalCount {
		next = strconv.Itoa(off + len(keys))
	}
	return keys, next, out.TotalCount, nil
}

// overviewPage shows the instance count and the quotas alone.
func (h *Handler) overviewPage(w http.ResponseWriter, r *http.Request, s *session) {
	if r.Method != http.MethodGet {
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	h.render(w, r, http.StatusOK, "overview", sessionData(s, map[string]any{"Overview": h.overview(r.Context(), s)}))
}

// createPage shows the create-key form and, on POST, creates the key.
func (h *Handler) createPage(w http.ResponseWriter, r *http.Request, s *session) {
	data := map[string]any{"Specs": keySpecs, "CanCreate": s.allowed("kms:cmk:create")}
	if r.Method == http.MethodPost {
		body := map[string]any{"key_alias": r.PostFormValue("alias"), "key_spec": r.PostFormValue("spec")}
		if u := r.PostFormValue("usage"); u != "" {
			body["key_usage"] = u
		}
		if d := r.PostFormValue("description"); d != "" {
			body["key_description"] = d
		}
		var out struct {
			KeyInfo struct {
				KeyID string `json:"key_id"`
			} `json:"key_info"`
		}
		err := h.call(r.Context(), s, http.MethodPost, "create-key", nil, body, &out)
		if err == nil {
			http.Redirect(w, r, h.cfg.Path+"/keys/"+url.PathEscape(out.KeyInfo.KeyID), http.StatusSeeOther)
			return
		}
		data["Err"], data["Alias"], data["Spec"], data["Description"] = err, r.PostFormValue("alias"), r.PostFormValue("spec"), r.PostFormValue("description")
		h.render(w, r, apiStatus(err), "create", sessionData(s, data))
		return
	}
	h.render(w, r, http.StatusOK, "create", sessionData(s, data))
}

// keyActions are the buttons of the key page: the API operation each
// posts and the IAM action that decides whether it is drawn.
var keyActions = map[string]struct{ op, action string }{
	"enable":          {"enable-key", "kms:cmk:enable"},
	"disable":         {"disable-key", "kms:cmk:disable"},
	"schedule":        {"schedule-key-deletion", "kms:cmk:update"},
	"cancel":          {"cancel-key-deletion", "kms:cmk:update"},
	"rotation-on":     {"enable-key-rotation", "kms:cmk:enableRotation"},
	"rotation-off":    {"disable-key-rotation", "kms:cmk:disableRotation"},
	"rotation-period": {"update-key-rotation-interval", "kms:cmk:updateRotation"},
}

// keyPage shows one key (GET /keys/ID) or runs one of its actions
// (POST /keys/ID/ACTION) and shows it again.
func (h *Handler) keyPage(w http.ResponseWriter, r *http.Request, s *session, id, action string) {
	ctx := r.Context()
	var actionErr error
	switch {
	case action == "" && r.Method == http.MethodGet:
	case action != "" && r.Method == http.MethodPost:
		a, ok := keyActions[action]
		if !ok {
			h.refuse(w, r, http.StatusNotFound, "no such action")
			return
		}
		body := map[string]any{"key_id": id}
		switch action {
		case "schedule":
			body["pending_days"] = r.PostFormValue("pending_days")
		case "rotation-period":
			n, err := strconv.Atoi(r.PostFormValue("rotation_interval"))
			if err != nil {
				n = -1
			}
			body["rotation_interval"] = n
		}
		if actionErr = h.call(ctx, s, http.MethodPost, a.op, nil, body, nil); actionErr == nil {
			http.Redirect(w, r, h.cfg.Path+"/keys/"+url.PathEscape(id), http.StatusSeeOther)
			return
		}
	default:
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	var key struct {
		KeyInfo keyDetails `json:"key_info"`
	}
	if err := h.call(ctx, s, http.MethodPost, "describe-key", nil, map[string]any{"key_id": id}, &key); err != nil {
		h.render(w, r, apiStatus(err), "error", sessionData(s, map[string]any{"Err": err}))
		return
	}
	k := key.KeyInfo
	data := map[string]any{"Key": k, "ActionErr": actionErr}
	can := map[string]bool{}
	for name, a := range keyActions {
		can[name] = s.allowed(a.action)
	}
	data["Can"] = can
	// The sections below are reads the user may lack the right for; each
	// shows its own error rather than failing the page.
	var tags struct {
		Tags []struct {
			Key   string `json:"key"`
			Value string `json:"value"`
		} `json:"tags"`
	}
	data["TagsErr"] = h.call(ctx, s, http.MethodGet, url.PathEscape(id)+"/tags", nil, nil, &tags)
	data["Tags"] = tags.Tags
	var grants struct {
		Grants []struct {
			GrantID          string   `json:"grant_id"`
			Name             string   `json:"name"`
			GranteePrincipal string   `json:"grantee_principal"`
			Operations       []string `json:"operations"`
			CreationDate     string   `json:"creation_date"`
		} `json:"grants"`
	}
	data["GrantsErr"] = h.call(ctx, s, http.MethodPost, "list-grants", nil, map[string]any{"key_id": id, "limit": "100"}, &grants)
	data["Grants"] = grants.Grants
	data["Aliases"], data["AliasesErr"] = h.aliases(ctx, s, id)
	if k.KeySpec == "AES_256" || k.KeySpec == "SM4" {
		var rot struct {
			Enabled  bool   `json:"key_rotation_enabled"`
			Interval int    `json:"rotation_interval"`
			Last     string `json:"last_rotation_time"`
			Count    int    `json:"number_of_rotations"`
		}
		err := h.call(ctx, s, http.MethodPost, "get-key-rotation-status", nil, map[string]any{"key_id": id}, &rot)
		data["Rotation"], data["RotationErr"] = rot, err
	}
	status := http.StatusOK
	if actionErr != nil {
		status = apiStatus(actionErr)
	}
	h.render(w, r, status, "key", sessionData(s, data))
}

// aliases lists the aliases of one key (ListAliases, first 100).
func (h *Handler) aliases(ctx context.Context, s *session, id string) ([]string, error) {
	var raw rawJSON
	if err := h.call(ctx, s, http.MethodGet, "aliases", url.Values{"key_id": {id}, "limit": {"100"}}, nil, &raw); err != nil {
		return nil, err
	}
	p, err := client.ParseAliasPage(raw)
	if err != nil {
		return nil, err
	}
	var names []string
	for _, a := range p.Aliases {
		names = append(names, a.Alias)
	}
	return names, nil
}

// rawJSON keeps an answer undecoded.
type rawJSON []byte

func (r *rawJSON) UnmarshalJSON(b []byte) error {
	*r = append((*r)[:0], b...)
	return nil
}

// apiStatus is the status of a page that shows err: the API's, or 500.
func apiStatus(err error) int {
	var e *apiError
	if errors.As(err, &e) {
		return e.Status
	}
	return http.StatusInternalServerError
}

// sessionData adds what every signed-in page shows: the user, the
// project and the sign-out form's CSRF token.
func sessionData(s *session, data map[string]any) map[string]any {
	data["User"] = s.principal.UserName
	data["Account"] = s.principal.AccountName
	data["ProjectID"] = s.principal.ProjectID
	data["CSRF"] = s.csrf
	data["CanAudit"] = s.allowed(auditAction)
	return data
}

// parseTemplates builds each page from the layout and its own template.
func parseTemplates() (map[string]*template.Template, error) {
	funcs := template.FuncMap{
		"state": func(s string) string {
			if n, ok := stateNames[s]; ok {
				return n
			}
			return s
		},
		"date": func(ms string) string {
			n, err := strconv.ParseInt(ms, 10, 64)
			if err != nil || n == 0 {
				return ""
			}
			return time.UnixMilli(n).UTC().Format("2006-01-02 15:04:05 UTC")
		},
		"join": strings.Join,
	}
	pages := map[string]*template.Template{}
	for _, name := range []string{"signin", "keys", "overview", "create", "key", "error", "refused", "audit"} {
		t, err := template.New("layout.html").Funcs(funcs).ParseFS(templateFS, "templates/layout.html", "templates/"+name+".html")
		if err != nil {
			return nil, err
		}
		pages[name] = t
	}
	return pages, nil
}

// render writes a page.
func (h *Handler) render(w http.ResponseWriter, r *http.Request, status int, page string, data map[string]any) {
	data["Base"] = h.cfg.Path
	data["Page"] = page
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	if err := h.pages[page].Execute(w, data); err != nil {
		h.log.ErrorContext(r.Context(), "console: render", "page", page, "err", err.Error())
	}
}

// refuse answers a request the console will not serve.
func (h *Handler) refuse(w http.ResponseWriter, r *http.Request, status int, reason string) {
	h.log.InfoContext(r.Context(), "console request refused", "method", r.Method, "path", r.URL.Path, "status", status, "cause", reason)
	h.render(w, r, status, "refused", map[string]any{"Reason": reason})
}

// fail answers an internal failure: logged, with a generic message.
func (h *Handler) fail(w http.ResponseWriter, r *http.Request, err error) {
	h.log.ErrorContext(r.Context(), "console failure", "path", r.URL.Path, "err", err.Error())
	h.render(w, r, http.StatusInternalServerError, "refused", map[string]any{"Reason": "internal error; see the server log"})
}
