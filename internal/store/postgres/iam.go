package postgres

import (
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
	_, err := t.exec("create account", "INSERT INTO accounts ("+accountCols+") VALUES ($1, $2, $3)",
		a.ID, a.Name, millis(a.CreatedAt))
	return err
}

func (t *tx) GetAccount(id string) (store.Account, error) {
	a, err := scanAccount(t.row("SELECT "+accountCols+" FROM accounts WHERE id = $1", id))
	return a, wrap("get account", err)
}

func (t *tx) GetAccountByName(name string) (store.Account, error) {
	a, err := scanAccount(t.row("SELECT "+accountCols+" FROM accounts WHERE name = $1", name))
	return a, wrap("get account by name", err)
}

// ListAccounts returns all accounts ordered by creation time, then id.
func (t *tx) ListAccounts() ([]store.Account, error) {
	as, err := query(t, scanAccount, "SELECT "+accountCols+" FROM accounts ORDER BY created_at, id")
	return as, wrap("list accounts", err)
}

// DeleteAccount fails with store.ErrConflict while a project of the account
// holds keys; otherwise the account's projects, users, access keys and
// policies go with it. A key created concurrently makes the delete fail on
// the foreign key of keys, which is reported as the same conflict.
func (t *tx) DeleteAccount(id string) error {
	const op = "delete account"
	var busy bool
	err := t.row(`SELECT EXISTS (
		SELECT 1 FROM projects p JOIN keys k ON k.project_id = p.id
		WHERE p.account_id = $1)`, id).Scan(&busy)
	if err != nil {
		return wrap(op, err)
	}
	if busy {
		return conflict(op, "a project of the account still holds keys")
	}
	return deleteParent(t, op, "DELETE FROM accounts WHERE id = $1", id)
}

// deleteParent runs the deletion of a row that keys may reference: a
// foreign key violation there means keys appeared meanwhile, a conflict.
func deleteParent(t *tx, op, q string, args ...any) error {
	err := t.execOne(op, q, args...)
	if err != nil && isForeignKeyViolation(err) {
		return conflict(op, "keys still reference it")
	}
	return err
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
		_, err := t.execIn(op, "INSERT INTO projects ("+projectCols+") VALUES ($1, $2, $3, $4, $5, $6)",
			p.ID, p.AccountID, p.Name, p.CMKQuota, p.GrantQuota, millis(p.CreatedAt))
		if err != nil {
			return err
		}
		_, err = t.execIn(op, "INSERT INTO key_counts (project_id) VALUES ($1)", p.ID)
		return err
	})
}

func (t *tx) GetProject(id string) (store.Project, error) {
	p, err := scanProject(t.row("SELECT "+projectCols+" FROM projects WHERE id = $1", id))
	return p, wrap("get project", err)
}

func (t *tx) GetProjectByName(accountID, name string) (store.Project, error) {
	p, err := scanProject(t.row("SELECT "+projectCols+" FROM projects WHERE account_id = $1 AND name = $2", accountID, name))
	return p, wrap("get project by name", err)
}

// ListProjects returns the account's projects ordered by creation time,
// then id.
func (t *tx) ListProjects(accountID string) ([]store.Project, error) {
	ps, err := query(t, scanProject,
		"SELECT "+projectCols+" FROM projects WHERE account_id = $1 ORDER BY created_at, id", accountID)
	return ps, wrap("list projects", err)
}

// UpdateProject changes the name and quotas of the project p.ID; the
// account and creation time stay as they are.
func (t *tx) UpdateProject(p store.Project) error {
	return t.execOne("update project",
		"UPDATE projects SET name = $1, cmk_quota = $2, grant_quota = $3 WHERE id = $4",
		p.Name, p.CMKQuota, p.GrantQuota, p.ID)
}

// DeleteProject fails with store.ErrConflict while the project holds keys.
func (t *tx) DeleteProject(id string) error {
	const op = "delete project"
	var busy bool
	if err := t.row("SELECT EXISTS (SELECT 1 FROM keys WHERE project_id = $1)", id).Scan(&busy); err != nil {
		return wrap(op, err)
	}
	if busy {
		return conflict(op, "the project still holds keys")
	}
	return deleteParent(t, op, "DELETE FROM projects WHERE id = $1", id)
}

const userCols = "id, account_id, name, password_hash, policies, disabled, created_at"

func scanUser(s scanner) (store.User, error) {
	var u store.User
	var created int64
	if err := s.Scan(&u.ID, &u.AccountID, &u.Name, &u.PasswordHash, &u.Policies, &u.Disabled, &created); err != nil {
		return store.User{}, err
	}
	u.Policies = fromNames(u.Policies)
	u.CreatedAt = fromMillis(created)
	return u, nil
}

// CreateUser fails with store.ErrConflict on a duplicate id or a name
// already used in the account, and with store.ErrNotFound when the account
// does not exist.
func (t *tx) CreateUser(u store.User) error {
	_, err := t.exec("create user", "INSERT INTO users ("+userCols+") VALUES ($1, $2, $3, $4, $5, $6, $7)",
		u.ID, u.AccountID, u.Name, u.PasswordHash, names(u.Policies), u.Disabled, millis(u.CreatedAt))
	return err
}

func (t *tx) GetUser(id string) (store.User, error) {
	u, err := scanUser(t.row("SELECT "+userCols+" FROM users WHERE id = $1", id))
	return u, wrap("get user", err)
}

func (t *tx) GetUserByName(accountID, name string) (store.User, error) {
	u, err := scanUser(t.row("SELECT "+userCols+" FROM users WHERE account_id = $1 AND name = $2", accountID, name))
	return u, wrap("get user by name", err)
}

// ListUsers returns the account's users ordered by creation time, then id.
func (t *tx) ListUsers(accountID string) ([]store.User, error) {
	us, err := query(t, scanUser,
		"SELECT "+userCols+" FROM users WHERE account_id = $1 ORDER BY created_at, id", accountID)
	return us, wrap("list users", err)
}

// UpdateUser changes the name, password hash, policies and disabled flag of
// the user u.ID; the account and creation time stay as they are.
func (t *tx) UpdateUser(u store.User) error {
	return t.execOne("update user",
		"UPDATE users SET name = $1, password_hash = $2, policies = $3, disabled = $4 WHERE id = $5",
		u.Name, u.PasswordHash, names(u.Policies), u.Disabled, u.ID)
}

// DeleteUser removes the user and, by cascade, its access keys.
func (t *tx) DeleteUser(id string) error {
	return t.execOne("delete user", "DELETE FROM users WHERE id = $1", id)
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
	_, err := t.exec("create access key", "INSERT INTO access_keys ("+accessKeyCols+") VALUES ($1, $2, $3, $4, $5)",
		k.AK, k.UserID, blob(k.SealedSK), k.Disabled, millis(k.CreatedAt))
	return err
}

func (t *tx) GetAccessKey(ak string) (store.AccessKey, error) {
	k, err := scanAccessKey(t.row("SELECT "+accessKeyCols+" FROM access_keys WHERE ak = $1", ak))
	return k, wrap("get access key", err)
}

// ListAccessKeys returns the user's access keys ordered by creation time,
// then AK.
func (t *tx) ListAccessKeys(userID string) ([]store.AccessKey, error) {
	ks, err := query(t, scanAccessKey,
		"SELECT "+accessKeyCols+" FROM access_keys WHERE user_id = $1 ORDER BY created_at, ak", userID)
	return ks, wrap("list access keys", err)
}

// UpdateAccessKey changes the sealed secret and the disabled flag of the
// access key k.AK; its user and creation time stay as they are.
func (t *tx) UpdateAccessKey(k store.AccessKey) error {
	return t.execOne("update access key",
		"UPDATE access_keys SET sealed_sk = $1, disabled = $2 WHERE ak = $3",
		blob(k.SealedSK), k.Disabled, k.AK)
}

func (t *tx) DeleteAccessKey(ak string) error {
	return t.execOne("delete access key", "DELETE FROM access_keys WHERE ak = $1", ak)
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
	_, err := t.exec("put policy", "INSERT INTO policies ("+policyCols+`) VALUES ($1, $2, $3, $4)
		ON CONFLICT (account_id, name) DO UPDATE SET
			document = excluded.document, created_at = excluded.created_at`,
		p.AccountID, p.Name, blob(p.Document), millis(p.CreatedAt))
	return err
}

func (t *tx) GetPolicy(accountID, name string) (store.Policy, error) {
	p, err := scanPolicy(t.row("SELECT "+policyCols+" FROM policies WHERE account_id = $1 AND name = $2", accountID, name))
	return p, wrap("get policy", err)
}

// ListPolicies returns the account's policies ordered by name.
func (t *tx) ListPolicies(accountID string) ([]store.Policy, error) {
	ps, err := query(t, scanPolicy,
		"SELECT "+policyCols+" FROM policies WHERE account_id = $1 ORDER BY name", accountID)
	return ps, wrap("list policies", err)
}

func (t *tx) DeletePolicy(accountID, name string) error {
	return t.execOne("delete policy", "DELETE FROM policies WHERE account_id = $1 AND name = $2", accountID, name)
}
