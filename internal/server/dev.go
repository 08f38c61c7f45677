package server

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/kmsd/kmsd/internal/config"
	"github.com/kmsd/kmsd/internal/iam"
)

// DevIdentities are the documented identities of dev mode. Every value has
// a fixed default (docs/configuration.md) that an environment variable
// overrides, so scripts and CI can rely on them.
type DevIdentities struct {
	AccountName, AccountID   string
	ProjectName, ProjectID   string
	AdminName, AdminID       string
	AdminAK, AdminSK         string
	AdminPassword            string
	ReaderName, ReaderID     string
	ReaderAK, ReaderSK       string
	ReaderPassword           string
	Account2Name, Account2ID string
	Project2ID               string
	Admin2Name, Admin2ID     string
	Admin2AK, Admin2SK       string
	Admin2Password           string
}

// devDefaults are the fixed dev identities. They are public test values:
// never use dev mode for real keys.
var devDefaults = DevIdentities{
	AccountName: "dev", AccountID: "d0000000000000000000000000000001",
	ProjectName: config.DefaultRegion, ProjectID: "0123456789abcdef0123456789abcdef",
	AdminName: "dev-admin", AdminID: "a0000000000000000000000000000001",
	AdminAK: "KMSDDEVADMINAK000001", AdminSK: "DevAdminSecretKey0000000000000000000001",
	AdminPassword: "dev-admin-password",
	ReaderName:    "dev-reader", ReaderID: "a0000000000000000000000000000002",
	ReaderAK: "KMSDDEVREADERAK00001", ReaderSK: "DevReaderSecretKey000000000000000000001",
	ReaderPassword: "dev-reader-password",
	Account2Name:   "dev2", Account2ID: "d0000000000000000000000000000002",
	Project2ID: "fedcba9876543210fedcba9876543210",
	Admin2Name: "dev2-admin", Admin2ID: "a0000000000000000000000000000003",
	Admin2AK: "KMSDDEV2ADMINAK00001", Admin2SK: "Dev2AdminSecretKey000000000000000000001",
	Admin2Password: "dev2-admin-password",
}

// devEnv lists the override variable of each dev identity value.
func (d *DevIdentities) fields() []struct {
	env string
	v   *string
} {
	return []struct {
		env string
		v   *string
	}{
		{"KMSD_DEV_ACCOUNT_ID", &d.AccountID},
		{"KMSD_DEV_PROJECT_ID", &d.ProjectID},
		{"KMSD_DEV_PROJECT_NAME", &d.ProjectName},
		{"KMSD_DEV_ADMIN_AK", &d.AdminAK},
		{"KMSD_DEV_ADMIN_SK", &d.AdminSK},
		{"KMSD_DEV_ADMIN_PASSWORD", &d.AdminPassword},
		{"KMSD_DEV_READER_AK", &d.ReaderAK},
		{"KMSD_DEV_READER_SK", &d.ReaderSK},
		{"KMSD_DEV_READER_PASSWORD", &d.ReaderPassword},
		{"KMSD_DEV2_ACCOUNT_ID", &d.Account2ID},
		{"KMSD_DEV2_PROJECT_ID", &d.Project2ID},
		{"KMSD_DEV2_ADMIN_AK", &d.Admin2AK},
		{"KMSD_DEV2_ADMIN_SK", &d.Admin2SK},
		{"KMSD_DEV2_ADMIN_PASSWORD", &d.Admin2Password},
	}
}

// DefaultDevIdentities returns the dev identities with the overrides that
// getenv finds applied.
func DefaultDevIdentities(getenv func(string) string) DevIdentities {
	d := devDefaults
	for _, f := range d.fields() {
		if v := getenv(f.env); v != "" {
			*f.v = v
		}
	}
	return d
}

// bootstrap expresses the dev identities as a bootstrap file, so dev mode
// and production share one way of declaring identities.
func (d DevIdentities) bootstrap() (iam.Bootstrap, func(string) string) {
	secrets := map[string]string{
		"admin_password": d.AdminPassword, "admin_sk": d.AdminSK,
		"reader_sk": d.ReaderSK, "reader_password": d.ReaderPassword, "admin2_password": d.Admin2Password, "admin2_sk": d.Admin2SK,
	}
	b := iam.Bootstrap{Accounts: []iam.BootstrapAccount{
		{
			Name: d.AccountName, ID: d.AccountID,
			Projects: []iam.BootstrapProject{{Name: d.ProjectName, ID: d.ProjectID}},
			Users: []iam.BootstrapUser{
				{Name: d.AdminName, ID: d.AdminID, PasswordEnv: "admin_password", Policies: []string{"KMS Administrator"},
					AccessKeys: []iam.BootstrapAccessKey{{AK: d.AdminAK, SKEnv: "admin_sk"}}},
				{Name: d.ReaderName, ID: d.ReaderID, PasswordEnv: "reader_password", Policies: []string{"KMS CMKReadOnlyAccess"},
					AccessKeys: []iam.BootstrapAccessKey{{AK: d.ReaderAK, SKEnv: "reader_sk"}}},
			},
		},
		{
			Name: d.Account2Name, ID: d.Account2ID,
			Projects: []iam.BootstrapProject{{Name: d.ProjectName, ID: d.Project2ID}},
			Users: []iam.BootstrapUser{
				{Name: d.Admin2Name, ID: d.Admin2ID, PasswordEnv: "admin2_password", Policies: []string{"KMS Administrator"},
					AccessKeys: []iam.BootstrapAccessKey{{AK: d.Admin2AK, SKEnv: "admin2_sk"}}},
			},
		},
	}}
	return b, func(k string) string { return secrets[k] }
}

// DevConfig returns the configuration of dev mode over dataDir.
func DevConfig(dataDir, listen string, cmkQuota int) config.Config {
	c := config.Default()
	c.DataDir = dataDir
	c.Listen = listen
	c.Quotas.CMK = cmkQuota
	c.Log.Format = "text"
	c.Database.Path = filepath.Join(dataDir, "kmsd.db")
	c.RootKey.File = filepath.Join(dataDir, "root.key")
	c.Console.Enabled = true
	return c
}

// EnsureDevIdentities creates or refreshes the dev identities.
func (s *Server) EnsureDevIdentities(ctx context.Context, d DevIdentities) error {
	b, getenv := d.bootstrap()
	return s.IAM.ApplyBootstrap(ctx, b, getenv)
}

// DevEnv returns the shell lines that point the official SDK samples at a
// dev server: CLOUD_SDK_AK/SK and the project id for the administrator,
// and the same for the read-only user and the second account.
func DevEnv(d DevIdentities, endpoint string) string {
	var b strings.Builder
	line := func(k, v string) { fmt.Fprintf(&b, "export %s=%s\n", k, v) }
	line("KMSD_ENDPOINT", endpoint)
	line("CLOUD_SDK_AK", d.AdminAK)
	line("CLOUD_SDK_SK", d.AdminSK)
	line("CLOUD_SDK_PROJECT_ID", d.ProjectID)
	line("HUAWEICLOUD_SDK_AK", d.AdminAK)
	line("HUAWEICLOUD_SDK_SK", d.AdminSK)
	line("HUAWEICLOUD_SDK_PROJECT_ID", d.ProjectID)
	line("KMSD_DEV_DOMAIN_NAME", d.AccountName)
	line("KMSD_DEV_ADMIN_USER", d.AdminName)
	line("KMSD_DEV_ADMIN_PASSWORD", d.AdminPassword)
	line("KMSD_DEV_READER_AK", d.ReaderAK)
	line("KMSD_DEV_READER_SK", d.ReaderSK)
	line("KMSD_DEV_READER_USER", d.ReaderName)
	line("KMSD_DEV_READER_PASSWORD", d.ReaderPassword)
	line("KMSD_DEV2_AK", d.Admin2AK)
	line("KMSD_DEV2_SK", d.Admin2SK)
	line("KMSD_DEV2_PROJECT_ID", d.Project2ID)
	line("KMSD_DEV2_DOMAIN_NAME", d.Account2Name)
	line("KMSD_DEV2_ADMIN_USER", d.Admin2Name)
	line("KMSD_DEV2_ADMIN_PASSWORD", d.Admin2Password)
	return b.String()
}
