package api

import (
	"encoding/json"
	"fmt"
	"slices"

	"github.com/kmsd/kmsd/internal/auth"
	"github.com/kmsd/kmsd/internal/iam"
)

// tokenRequest is the Keystone password-method body the SDK sends to
// POST /v3/auth/tokens (reference auth.md §5).
type tokenRequest struct {
	Auth struct {
		Identity struct {
			Methods  []string `json:"methods"`
			Password struct {
				User struct {
					Name     string `json:"name"`
					ID       string `json:"id"`
					Password string `json:"password"`
					Domain   struct {
						Name string `json:"name"`
						ID   string `json:"id"`
					} `json:"domain"`
				} `json:"user"`
			} `json:"password"`
		} `json:"identity"`
		Scope struct {
			Project *struct {
				Name string `json:"name"`
				ID   string `json:"id"`
			} `json:"project"`
			Domain *struct {
				Name string `json:"name"`
				ID   string `json:"id"`
			} `json:"domain"`
		} `json:"scope"`
	} `json:"auth"`
}

type nameID struct {
	Name string `json:"name"`
	ID   string `json:"id"`
}

type tokenProject struct {
	Name   string `json:"name"`
	ID     string `json:"id"`
	Domain nameID `json:"domain"`
}

type tokenBody struct {
	ExpiresAt string        `json:"expires_at"`
	IssuedAt  string        `json:"issued_at"`
	Methods   []string      `json:"methods"`
	Catalog   []any         `json:"catalog"`
	Roles     []nameID      `json:"roles"`
	User      tokenUser     `json:"user"`
	Project   *tokenProject `json:"project,omitempty"`
	Domain    *nameID       `json:"domain,omitempty"`
}

type tokenUser struct {
	Name              string `json:"name"`
	ID                string `json:"id"`
	PasswordExpiresAt string `json:"password_expires_at"`
	Domain            nameID `json:"domain"`
}

const keystoneTime = "2006-01-02T15:04:05.000000Z"

// createToken answers POST /v3/auth/tokens: it decodes the Keystone
// body and has iam issue the token (iam.TokenIssuer).
func (h *Handler) createToken(c *call) (any, error) {
	var req tokenRequest
	if err := json.Unmarshal(c.body, &req); err != nil {
		return nil, fmt.Errorf("%w: %v", errBadTokenRequest, err)
	}
	id := req.Auth.Identity
	u := id.Password.User
	if !slices.Contains(id.Methods, "password") || u.Password == "" || (u.Name == "" && u.ID == "") {
		return nil, fmt.Errorf("%w: password method with user name and password required", errBadTokenRequest)
	}
	in := iam.TokenRequest{AccountName: u.Domain.Name, AccountID: u.Domain.ID, UserName: u.Name, Password: u.Password}
	if in.UserName == "" {
		in.UserName = u.ID
	}
	if sp := req.Auth.Scope.Project; sp != nil {
		in.Project = &iam.ProjectScope{ID: sp.ID, Name: sp.Name}
	}
	tok, claims, err := h.issuer.Issue(c.ctx, in)
	if err != nil {
		return nil, err
	}
	c.w.Header().Set("X-Subject-Token", tok)
	return map[string]any{"token": tokenView(claims)}, nil
}

func tokenView(cl auth.TokenClaims) tokenBody {
	dom := nameID{Name: cl.AccountName, ID: cl.AccountID}
	b := tokenBody{
		ExpiresAt: cl.ExpiresAt.UTC().Format(keystoneTime),
		IssuedAt:  cl.IssuedAt.UTC().Format(keystoneTime),
		Methods:   cl.Methods,
		Catalog:   []any{},
		Roles:     []nameID{},
		User:      tokenUser{Name: cl.UserName, ID: cl.UserID, Domain: dom},
	}
	if cl.ProjectID != "" {
		b.Project = &tokenProject{Name: cl.ProjectName, ID: cl.ProjectID, Domain: dom}
	} else {
		b.Domain = &dom
	}
	return b
}

// validateToken answers GET /v3/auth/tokens: the caller authenticates and
// names the token to check in X-Subject-Token.
func (h *Handler) validateToken(c *call) (any, error) {
	claims, err := h.tokens.Verify(c.r.Header.Get("X-Subject-Token"), h.Now())
	if err != nil {
		return nil, err
	}
	c.w.Header().Set("X-Subject-Token", c.r.Header.Get("X-Subject-Token"))
	return map[string]any{"token": tokenView(claims)}, nil
}

// listProjects answers GET /v3/projects[?name=…], which the SDK calls to
// find the project id of a region (auth.md §5).
func (h *Handler) listProjects(c *call) (any, error) {
	projects, err := h.iam.Projects(c.ctx, c.principal.AccountID)
	if err != nil {
		return nil, err
	}
	name := c.r.URL.Query().Get("name")
	type project struct {
		ID       string `json:"id"`
		Name     string `json:"name"`
		DomainID string `json:"domain_id"`
		Enabled  bool   `json:"enabled"`
	}
	out := []project{}
	for _, p := range projects {
		if name == "" || p.Name == name {
			out = append(out, project{ID: p.ID, Name: p.Name, DomainID: c.principal.AccountID, Enabled: true})
		}
	}
	return map[string]any{"projects": out}, nil
}
