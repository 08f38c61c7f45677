package sqlite

import (
	"encoding/json"
	"fmt"

	"github.com/kmsd/kmsd/internal/store"
)

// Accounts, projects, users, access keys and policies. Rows that belong to
// an account are removed with it by ON DELETE CASCADE.

const accountCols = "id, name, created_at"

func scanAccount(s scanner) (store.Account, error) {
	var a store.Account
	var created int64
	if err := s.Scan(&a.ID, &a.Name, &created); err != nil {
		return store.Account{}, err
	}
	a.CreatedAt = fromMillis(created)
	return a, nil
}

// CreateAccount fails with store.ErrConflict on a duplicate id or name.
func (t *tx) CreateAccount(a store.Account) error {
	_, err := t.exec("INSERT INTO accounts ("+accountCols+") VALUES (?, ?, ?)",
		a.ID, a.Name, millis(a.CreatedAt))
	return wrap("create account", err)
}

func (t *tx) GetAccount(id string) (store.Account, error) {
	a, err := scanAccount(t.queryRow(
		"SELECT "+accountCols+" FROM accounts WHERE id = ?", id))
	return a, wrap("get account", err)
}

func (t *tx) GetAccountByName(name string) (store.Account, error) {
	a, err := scanAccount(t.queryRow(
		"SELECT "+accountCols+" FROM accounts WHERE name = ?", name))
	return a, wrap("get account by name", err)
}

// ListAccounts returns all accounts ordered by creation time, then id.
func (t *tx) ListAccounts() ([]store.Account, error) {
	as, err := query(t, scanAccount,
		"SELECT "+accountCols+" FROM accounts ORDER BY created_at, id")
	return as, wrap("list accounts", err)
}

// DeleteAccount fails with store.ErrConflict while a project of the account
// holds keys; otherwise the account's projects, users, access keys and
// policies go with it.
func (t *tx) DeleteAccount(id string) error {
	const op = "delete account"
	var busy bool
	err := t.queryRow(`SELECT EXISTS (
		SELECT 1 FROM projects p JOIN keys k ON k.project_id = p.id
		WHERE p.account_id = ?)`, id).Scan(&busy)
	if err != nil {
		return wrap(op, err)
	}
	if busy {
		return conflict(op, "a project of the account still holds keys")
	}
	return t.execOne(op, "DELETE FROM accounts WHERE id = ?", id)
}

const projectCols = "id, account_id, name, cmk_quota, grant_quota, created_at"

func scanProject(s scanner) (store.Project, error) {
	var p store.Project
	var created int64
	if err := s.Scan(&p.ID, &p.AccountID, &p.Name, &p.CMKQuota, &p.GrantQuota, &created); err != nil {
		return store.Project{}, err
	}
	p.CreatedAt = fromMillis(created)
	return p, nil
}

// CreateProject creates the project with zero key counts. It fails with
// store.ErrConflict on a duplicate id or a name already used in the
// account, and with store.ErrNotFound when the account does not exist.
func (t *tx) CreateProject(p store.Project) error {
	const op = "create project"
	return t.atomic(func() error {
		_, err := t.exec("INSERT INTO projects ("+projectCols+") VALUES (?, ?, ?, ?, ?, ?)",
			p.ID, p.AccountID, p.Name, p.CMKQuota, p.GrantQuota, millis(p.CreatedAt))
		if err != nil {
			return wrap(op, err)
		}
		_, err = t.exec("INSERT INTO key_counts (project_id) VALUES (?)", p.ID)
		return wrap(op, err)
	})
}

func (t *tx) GetProject(id string) (store.Project, error) {
	p, err := scanProject(t.queryRow(
		"SELECT "+projectCols+" FROM projects WHERE id = ?", id))
	return p, wrap("get project", err)
}

func (t *tx) GetProjectByName(accountID, name string) (store.Project, error) {
	p, err := scanProject(t.queryRow(
		"SELECT "+projectCols+" FROM projects WHERE account_id = ? AND name = ?", accountID, name))
	return p, wrap("get project by name", err)
}

// ListProjects returns the account's projects ordered by creation time,
// then id.
func (t *tx) ListProjects(accountID string) ([]store.Project, error) {
	ps, err := query(t, scanProject,
		"SELECT "+projectCols+" FROM projects WHERE account_id = ? ORDER BY created_at, id", accountID)
	return ps, wrap("list projects", err)
}

// UpdateProject changes the name and quotas of the project p.ID; the
// account and creation time stay as they are.
func (t *tx) UpdateProject(p store.Project) error {
	return t.execOne("update project",
		"UPDATE projects SET name = ?, cmk_quota = ?, grant_quota = ? WHERE id = ?",
		p.Name, p.CMKQuota, p.GrantQuota, p.ID)
}

// DeleteProject fails with store.ErrConflict while the project holds keys.
func (t *tx) DeleteProject(id string) error {
	const op = "delete project"
	var busy bool
	err := t.queryRow(
		"SELECT EXISTS (SELECT 1 FROM keys WHERE project_id = ?)", id).Scan(&busy)
	if err != nil {
		return wrap(op, err)
	}
	if busy {
		return conflict(op, "the project still holds keys")
	}
	return t.execOne(op, "DELETE FROM projects WHERE id = ?", id)
}

const userCols = "id, account_id, name, password_hash, policies, disabled, created_at"

func scanUser(s scanner) (store.User, error) {
	var u store.User
	var policies string
	var created int64
	if err := s.Scan(&u.ID, &u.AccountID, &u.Name, &u.PasswordHash, &policies, &u.Disabled, &created); err != nil {
		return store.User{}, err
	}
	if err := json.Unmarshal([]byte(policies), &u.Policies); err != nil {
		return store.User{}, fmt.Errorf("user %s: policies: %w", u.ID, err)
	}
	if len(u.Policies) == 0 {
		u.Policies = nil
	}
	u.CreatedAt = fromMillis(created)
	return u, nil
}

// CreateUser fails with store.ErrConflict on a duplicate id or a name
// already used in the account, and with store.ErrNotFound when the account
// does not exist.
func (t *tx) CreateUser(u store.User) error {
	const op = "create user"
	policies, err := stringsJSON(u.Policies)
	if err != nil {
		return wrap(op, err)
	}
	_, err = t.exec("INSERT INTO users ("+userCols+") VALUES (?, ?, ?, ?, ?, ?, ?)",
		u.ID, u.AccountID, u.Name, u.PasswordHash, policies, u.Disabled, millis(u.CreatedAt))
	return wrap(op, err)
}

func (t *tx) GetUser(id string) (store.User, error) {
	u, err := scanUser(t.queryRow(
		"SELECT "+userCols+" FROM users WHERE id = ?", id))
	return u, wrap("get user", err)
}

func (t *tx) GetUserByName(accountID, name string) (store.User, error) {
	u, err := scanUser(t.queryRow(
		"SELECT "+userCols+" FROM users WHERE account_id = ? AND name = ?", accountID, name))
	return u, wrap("get user by name", err)
}

// ListUsers returns the account's users ordered by creation time, then id.
func (t *tx) ListUsers(accountID string) ([]store.User, error) {
	us, err := query(t, scanUser,
		"SELECT "+userCols+" FROM users WHERE account_id = ? ORDER BY created_at, id", accountID)
	return us, wrap("list users", err)
}

// UpdateUser changes the name, password hash, policies and disabled flag of
// the user u.ID; the account and creation time stay as they are.
func (t *tx) UpdateUser(u store.User) error {
	const op = "update user"
	policies, err := stringsJSON(u.Policies)
	if err != nil {
		return wrap(op, err)
	}
	return t.execOne(op,
		"UPDATE users SET name = ?, password_hash = ?, policies = ?, disabled = ? WHERE id = ?",
		u.Name, u.PasswordHash, policies, u.Disabled, u.ID)
}

// DeleteUser removes the user and, by cascade, its access keys.
func (t *tx) DeleteUser(id string) error {
	return t.execOne("delete user", "DELETE FROM users WHERE id = ?", id)
}

const accessKeyCols = "ak, user_id, sealed_sk, disabled, created_at"

func scanAccessKey(s scanner) (store.AccessKey, error) {
	var k store.AccessKey
	var created int64
	if err := s.Scan(&k.AK, &k.UserID, &k.SealedSK, &k.Disabled, &created); err != nil {
		return store.AccessKey{}, err
	}
	k.CreatedAt = fromMillis(created)
	return k, nil
}

// CreateAccessKey fails with store.ErrConflict when the AK exists and with
// store.ErrNotFound when the user does not.
func (t *tx) CreateAccessKey(k store.AccessKey) error {
	_, err := t.exec("INSERT INTO access_keys ("+accessKeyCols+") VALUES (?, ?, ?, ?, ?)",
		k.AK, k.UserID, blob(k.SealedSK), k.Disabled, millis(k.CreatedAt))
	return wrap("create access key", err)
}

func (t *tx) GetAccessKey(ak string) (store.AccessKey, error) {
	k, err := scanAccessKey(t.queryRow(
		"SELECT "+accessKeyCols+" FROM access_keys WHERE ak = ?", ak))
	return k, wrap("get access key", err)
}

// ListAccessKeys returns the user's access keys ordered by creation time,
// then AK.
func (t *tx) ListAccessKeys(userID string) ([]store.AccessKey, error) {
	ks, err := query(t, scanAccessKey,
		"SELECT "+accessKeyCols+" FROM access_keys WHERE user_id = ? ORDER BY created_at, ak", userID)
	return ks, wrap("list access keys", err)
}

// UpdateAccessKey changes the sealed secret and the disabled flag of the
// access key k.AK; its user and creation time stay as they are.
func (t *tx) UpdateAccessKey(k store.AccessKey) error {
	return t.execOne("update access key",
		"UPDATE access_keys SET sealed_sk = ?, disabled = ? WHERE ak = ?",
		blob(k.SealedSK), k.Disabled, k.AK)
}

func (t *tx) DeleteAccessKey(ak string) error {
	return t.execOne("delete access key", "DELETE FROM access_keys WHERE ak = ?", ak)
}

const policyCols = "account_id, name, document, created_at"

func scanPolicy(s scanner) (store.Policy, error) {
	var p store.Policy
	var created int64
	if err := s.Scan(&p.AccountID, &p.Name, &p.Document, &created); err != nil {
		return store.Policy{}, err
	}
	p.CreatedAt = fromMillis(created)
	return p, nil
}

// PutPolicy creates the policy or replaces the one with the same account
// and name. It fails with store.ErrNotFound when the account does not
// exist.
func (t *tx) PutPolicy(p store.Policy) error {
	_, err := t.exec("INSERT INTO policies ("+policyCols+`) VALUES (?, ?, ?, ?)
		ON CONFLICT (account_id, name) DO UPDATE SET
			document = excluded.document, created_at = excluded.created_at`,
		p.AccountID, p.Name, blob(p.Document), millis(p.CreatedAt))
	return wrap("put policy", err)
}

func (t *tx) GetPolicy(accountID, name string) (store.Policy, error) {
	p, err := scanPolicy(t.queryRow(
		"SELECT "+policyCols+" FROM policies WHERE account_id = ? AND name = ?", accountID, name))
	return p, wrap("get policy", err)
}

// ListPolicies returns the account's policies ordered by name.
func (t *tx) ListPolicies(accountID string) ([]store.Policy, error) {
	ps, err := query(t, scanPolicy,
		"SELECT "+policyCols+" FROM policies WHERE account_id = ? ORDER BY name", accountID)
	return ps, wrap("list policies", err)
}

func (t *tx) DeletePolicy(accountID, name string) error {
	return t.execOne("delete policy",
		"DELETE FROM policies WHERE account_id = ? AND name = ?", accountID, name)
}
